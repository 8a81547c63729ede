"""How this session's person signed in, and the half-way state before a second factor.

A password alone never signs a person in who has a second factor or must have one: the
password step leaves a *pending* sign-in in the session (who, which methods so far, where
to go next, until when), and only the second factor's page completes it with
``sign_in_complete``. A person already signed in who is asked for more (a step-up) adds
methods with ``methods_add``. The methods are RFC 8176 ``amr`` values; ``acr`` is derived
from them, so the ID token, the step-up check and the rules all read the same facts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.contrib.auth import login
from django.http import HttpRequest

from ..models import User

METHODS_KEY = "auth_methods"
AUTH_TIME_KEY = "auth_time"
PENDING_KEY = "mfa_pending"
# How long a password stays good for its second factor: long enough to open an app.
PENDING_SECONDS = 5 * 60

# RFC 8176 values we record.
PASSWORD = "pwd"  # noqa: S105 - an amr value, not a password
ONE_TIME_CODE = "otp"  # an authenticator app's code, or a recovery code (also one-time)
HARDWARE_KEY = "hwk"  # a passkey bound to its device (a security key)
SOFTWARE_KEY = "swk"  # a synced passkey (a password manager, a platform account)
MULTI_FACTOR = "mfa"
SECOND_FACTORS = frozenset({ONE_TIME_CODE, HARDWARE_KEY, SOFTWARE_KEY})

# The acr values we answer, weakest first (discovery lists them as acr_values_supported).
ACR_PASSWORD = "urn:abcinc:acr:password"  # noqa: S105 - an acr value
ACR_MFA = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
ACR_PHISHING_RESISTANT = "phr"  # OpenID EAP ACR Values 1.0: a passkey
ACR_VALUES = (ACR_PASSWORD, ACR_MFA, ACR_PHISHING_RESISTANT)


def amr_with_mfa(methods: list[str]) -> list[str]:
    """``methods`` in a stable order, with ``mfa`` when they are two factors or more."""
    kept = [method for method in (PASSWORD, ONE_TIME_CODE, HARDWARE_KEY, SOFTWARE_KEY) if method in methods]
    if MULTI_FACTOR in methods or (PASSWORD in kept and SECOND_FACTORS & set(kept)):
        kept.append(MULTI_FACTOR)
    return kept


def acr_met(acr: str, methods: list[str]) -> bool:
    """Whether a sign-in by ``methods`` meets ``acr`` (an unknown value is never met)."""
    if acr == ACR_PASSWORD:
        return bool(methods)
    if acr == ACR_MFA:
        return MULTI_FACTOR in amr_with_mfa(methods)
    if acr == ACR_PHISHING_RESISTANT:
        return bool({HARDWARE_KEY, SOFTWARE_KEY} & set(methods))
    return False


def acr_of(methods: list[str], requested: list[str] | None = None) -> str | None:
    """The acr to state for ``methods``: the first of ``requested`` they meet (OIDC Core
    §2, ``acr_values`` is in order of preference), else the strongest they meet."""
    for acr in requested or ():
        if acr_met(acr, methods):
            return acr
    met = [acr for acr in ACR_VALUES if acr_met(acr, methods)]
    return met[-1] if met else None


@dataclass(frozen=True)
class Authentication:
    """How the session's person signed in: RFC 8176 methods and when (epoch seconds)."""

    methods: list[str]
    auth_time: int | None

    @property
    def amr(self) -> list[str]:
        return amr_with_mfa(self.methods)

    @property
    def acr(self) -> str | None:
        return acr_of(self.methods)

    def meets(self, acr: str) -> bool:
        return acr_met(acr, self.methods)


def session_authentication(request: HttpRequest) -> Authentication:
    """What this session records; a session signed in before methods were recorded counts
    as a password sign-in at an unknown time."""
    methods = request.session.get(METHODS_KEY)
    if not isinstance(methods, list):
        methods = [PASSWORD] if request.user.is_authenticated else []
    auth_time = request.session.get(AUTH_TIME_KEY)
    return Authentication(
        methods=[str(m) for m in methods], auth_time=auth_time if isinstance(auth_time, int) else None
    )


def sign_in_complete(
    request: HttpRequest, user: User, methods: list[str], *, backend: str | None = None
) -> None:
    """Sign ``user`` in by ``methods`` (Django's ``login``: a new session key, the
    ``user_logged_in`` signal), and record how and when."""
    request.session.pop(PENDING_KEY, None)
    login(request, user, backend=backend or "django.contrib.auth.backends.ModelBackend")
    request.session[METHODS_KEY] = amr_with_mfa(methods)
    request.session[AUTH_TIME_KEY] = int(time.time())


def methods_add(request: HttpRequest, methods: list[str]) -> None:
    """A step-up: the signed-in person proved more; the session's sign-in is now."""
    current = session_authentication(request).methods
    request.session[METHODS_KEY] = amr_with_mfa([*current, *methods])
    request.session[AUTH_TIME_KEY] = int(time.time())


@dataclass(frozen=True)
class PendingSignIn:
    """A password checked, a second factor to come."""

    user: User
    methods: list[str]
    next_url: str


def pending_begin(request: HttpRequest, user: User, *, methods: list[str], next_url: str) -> None:
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "methods": methods,
        "next": next_url,
        "until": int(time.time()) + PENDING_SECONDS,
    }


def pending_sign_in(request: HttpRequest) -> PendingSignIn | None:
    """The pending sign-in of this session, if any and still fresh, for an active person."""
    state = request.session.get(PENDING_KEY)
    if not isinstance(state, dict) or int(state.get("until", 0)) < time.time():
        return None
    user = User.objects.filter(
        pk=int(state.get("user") or 0), is_active=True, deleted_at__isnull=True
    ).first()
    if user is None:
        return None
    return PendingSignIn(
        user=user, methods=list(state.get("methods", [])), next_url=str(state.get("next", ""))
    )


def pending_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)
