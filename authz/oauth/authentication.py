"""How strongly the person must have signed in, at /authorize and at the token endpoint.

What a request needs is an ``acr`` (``accounts.mfa.context``'s ladder): the one the client
asks for, through ``acr_values`` (folded into the claims request by ``params``) or an
``acr`` claim request (OIDC Core §5.5.1.1), and multi-factor whenever the organisation's
policy, the application or a rule requires a second factor (``authz.mfa_requirement``).
A session that does not meet it is sent to prove more (a step-up) and comes back; with
``prompt=none`` that is ``interaction_required``. The token endpoint cannot ask anything: a
code or refresh token whose sign-in falls short is refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import reverse
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid.connect.core.exceptions import InteractionRequired

from accounts.mfa.context import ACR_MFA, ACR_VALUES, Authentication, acr_met, acr_of
from accounts.mfa.selectors import has_second_factor
from accounts.models import User
from authz.mfa_requirement import mfa_reasons
from authz.rules import RuleContext

from .context import request_context, signed_in_authentication
from .sign_ins import SignIn, claims_request

# OpenID Connect Core Error Code unmet_authentication_requirements 1.0: the error for an
# essential acr the server cannot meet (Core §5.5.1.1 makes that "a failed authentication
# attempt"; this extension names the error the client then receives).
UNMET_AUTHENTICATION_REQUIREMENTS = "unmet_authentication_requirements"


@dataclass(frozen=True)
class AcrRequest:
    """The acr values a client asked for, in its order of preference."""

    values: tuple[str, ...] = ()
    essential: bool = False

    @property
    def known(self) -> tuple[str, ...]:
        """The values we answer; others are ignored unless the request is essential."""
        return tuple(value for value in self.values if value in ACR_VALUES)


def acr_request(claims: Any) -> AcrRequest:
    """The ``id_token`` ``acr`` member of a claims request: ``{"essential": true,
    "values": [...]}`` or ``"value"`` (OIDC Core §5.5.1); nothing for anything else."""
    id_token = claims_request(claims).get("id_token")
    acr = id_token.get("acr") if isinstance(id_token, dict) else None
    if not isinstance(acr, dict):
        return AcrRequest()
    values = acr.get("values", [acr["value"]] if "value" in acr else [])
    if not isinstance(values, list):
        values = []
    strings = tuple(value for value in values if isinstance(value, str))
    return AcrRequest(values=strings, essential=acr.get("essential") is True)


def acr_needed(requested: AcrRequest, *, mfa_required: bool, methods: list[str]) -> str | None:
    """The acr a sign-in by ``methods`` must step up to, or None when it meets the request:
    multi-factor when that is required, and one of the known requested values (the first,
    the client's preference, when none is met already); the stronger of the two."""
    needs = []
    if mfa_required and not acr_met(ACR_MFA, methods):
        needs.append(ACR_MFA)
    known = requested.known
    if known and not any(acr_met(value, methods) for value in known):
        needs.append(known[0])
    return max(needs, key=ACR_VALUES.index, default=None)


def signed_in_at(authentication: Authentication | None, user: User) -> int | None:
    """When the session's person last authenticated, as the ID token's ``auth_time`` and
    ``max_age`` read it: the session's own time (a sign-in or a step-up), but never later
    than the person's ``last_login`` (a session from before auth_time was recorded has only
    that, and an older ``last_login`` is never a claim of a fresher sign-in than happened)."""
    times = [int(user.last_login.timestamp())] if user.last_login is not None else []
    if authentication is not None and authentication.auth_time is not None:
        times.append(authentication.auth_time)
    return min(times, default=None)


def sign_in_older_than(signed_in: int | None, max_age: str | None) -> bool:
    """Whether a sign-in at ``signed_in`` (epoch seconds) is older than an authorization
    request's ``max_age`` allows (OIDC Core §3.1.2.1); a missing or malformed ``max_age``
    allows any."""
    try:
        seconds = int(max_age or "")
    except ValueError:
        return False
    if seconds < 0:
        return False
    return signed_in is None or time.time() - signed_in > seconds


class StepUpRequired(Exception):
    """The signed-in person must prove more before this authorization request goes on."""

    def __init__(self, acr: str, *, enrol: bool) -> None:
        super().__init__(acr)
        self.acr = acr
        self.enrol = enrol  # they have no second factor yet: enrol one first

    def redirect(self, next_url: str) -> HttpResponseRedirect:
        """To the second factor's page, then back to ``next_url`` (the authorization request)."""
        if self.enrol:
            return HttpResponseRedirect(f"{reverse('accounts:mfa_enrol')}?{urlencode({'next': next_url})}")
        query = urlencode({"next": next_url, "acr": self.acr})
        return HttpResponseRedirect(f"{reverse('accounts:mfa_verify')}?{query}")


def _prompt(request: Request) -> set[str]:
    prompt = request.prompt or ""
    return set(prompt.split() if isinstance(prompt, str) else prompt)


def authorization_sign_in_check(request: Request, rules: RuleContext) -> None:
    """At /authorize, once the rules have run: does the session meet what the request needs?

    Records on the context what the ID token will state of the sign-in; raises
    ``StepUpRequired`` (the view redirects), ``interaction_required`` for ``prompt=none``,
    or ``unmet_authentication_requirements`` for an essential acr we do not offer.
    """
    context = request_context(request)
    if context.user is None:
        return  # nobody signed in: the sign-in comes first (or login_required)
    user = context.user
    session = signed_in_authentication() or Authentication(methods=[], auth_time=None)
    requested = acr_request(request.claims)
    if requested.essential and not requested.known:
        raise errors.CustomOAuth2Error(
            error=UNMET_AUTHENTICATION_REQUIREMENTS,
            description=f"None of the essential acr values is offered here: {' '.join(ACR_VALUES)}.",
            request=request,
        )
    reasons = mfa_reasons(user=user, client=context.client, rules=rules)
    needed = acr_needed(requested, mfa_required=bool(reasons), methods=session.methods)
    if needed is not None:
        if "none" in _prompt(request):
            raise InteractionRequired(
                description=f"The person must sign in with more ({needed}) first.", request=request
            )
        raise StepUpRequired(needed, enrol=not has_second_factor(user))
    acr = acr_of(session.methods, list(requested.known))
    context.sign_in = SignIn(amr=session.amr, acr=acr, auth_time=signed_in_at(session, user))


def token_sign_in_check(request: Request, rules: RuleContext) -> None:
    """At the token endpoint, once the rules have run: a code or refresh token whose sign-in
    had no second factor is ``invalid_grant`` when one is now required (by the policy, the
    application or a rule). Nobody is there to ask: the client must send the person through
    /authorize again. RFC 6749 §5.2's ``invalid_grant`` (the grant is no longer good, as a
    revoked one is) is what every client library handles that way; Auth0's ``mfa_required``
    is no RFC 6749 error and its clients need Auth0's MFA API to act on it."""
    context = request_context(request)
    if context.machine or context.user is None:
        return
    methods = context.sign_in.amr if context.sign_in is not None else []
    if acr_met(ACR_MFA, methods):
        return  # nothing to ask (and the policy's row is not read on every refresh)
    reasons = mfa_reasons(user=context.user, client=context.client, rules=rules)
    if reasons:
        raise errors.InvalidGrantError(
            description=(
                f"This sign-in had no second factor, now required by {reasons[0]}: "
                f"send the person to /authorize again (acr_values={ACR_MFA})."
            ),
            request=request,
        )
