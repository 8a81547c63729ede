"""Token preview: what a token would say for a user, a client, an API and scopes, and why.

It asks the same policy, runs the same rules and builds the same claims as the token
endpoint (``policy``, ``run_rules``, ``token_claims``, ``claims_for_scopes``), and asks
whether a second factor would be required (``mfa_requirement``, as /authorize does);
only the signature is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from accounts.claims import claims_for_scopes
from accounts.mfa.context import PASSWORD
from accounts.mfa.selectors import has_second_factor
from accounts.models import User
from apis.models import OPENID, Api
from clients.models import Client
from clients.selectors import client_grant_scopes

from .mfa_requirement import mfa_reasons
from .policy import NoClientGrant, ScopeDecision, decide_machine_scopes, decide_scopes, granted
from .rules import (
    PROTOCOL_CLIENT_CREDENTIALS,
    PROTOCOL_CODE,
    RuleAuthentication,
    RuleContext,
    RuleDenied,
    run_rules,
)
from .token_claims import access_token_claims, access_token_lifetime, refresh_token_allowed


@dataclass
class TokenPreview:
    decisions: list[ScopeDecision] = field(default_factory=list)
    access_token: dict[str, Any] | None = None
    id_token: dict[str, Any] | None = None
    refresh_token: bool = False
    denied: str | None = None
    # What would ask the person for a second factor (finishing "required by ..."), and
    # whether they have none yet (they would be asked to set one up first).
    mfa_reasons: list[str] = field(default_factory=list)
    mfa_enrol: bool = False


def token_preview(
    *, user: User | None, client: Client, api: Api | None, requested: list[str]
) -> TokenPreview:
    machine = client.app_type == Client.AppType.M2M
    if machine and api is None:
        return TokenPreview(denied="A machine client must name an audience.")
    client_grant = client_grant_scopes(client=client, api=api) if machine and api is not None else None
    try:
        if machine:
            decisions = decide_machine_scopes(api=api, requested=requested, client_grant=client_grant)
        else:
            decisions = decide_scopes(user=user, api=api, requested=requested)
    except NoClientGrant as refused:
        # The token endpoint's words, after the client's name rather than "This application".
        return TokenPreview(denied=f"{client} {refused}: access_denied.")
    scopes = granted(decisions)
    person = None if machine else user
    if not machine and person is None:
        return TokenPreview(decisions=decisions, denied="Pick a user: this application signs people in.")

    context = RuleContext(
        user=person,
        client=client,
        api=api,
        requested_scopes=tuple(requested),
        granted_scopes=tuple(scopes),
        protocol=PROTOCOL_CLIENT_CREDENTIALS if machine else PROTOCOL_CODE,
        # The rules see a sign-in by password alone: whether they would ask for more.
        authentication=RuleAuthentication.of([] if machine else [PASSWORD]),
    )
    try:
        run_rules(context)
    except RuleDenied as error:
        return TokenPreview(decisions=decisions, denied=f"A rule denied the request: {error}")

    preview = TokenPreview(
        decisions=decisions,
        access_token=access_token_claims(
            user=person,
            client=client,
            api=api,
            scopes=scopes,
            lifetime=access_token_lifetime(api),
            rule_claims=context.access_token_claims,
        ),
        refresh_token=not machine and refresh_token_allowed(scopes, api),
    )
    if person is not None:
        preview.mfa_reasons = mfa_reasons(user=person, client=client, rules=context)
        preview.mfa_enrol = bool(preview.mfa_reasons) and not has_second_factor(person)
    if person is not None and OPENID in scopes:
        preview.id_token = {
            **claims_for_scopes(person, scopes),
            **context.id_token_claims,
            "iss": settings.OIDC_ISSUER,
            "aud": client.client_id,
        }
    return preview
