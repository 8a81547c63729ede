"""The token policy: for each requested scope, whether it is granted and why.

The token endpoint, the authorization endpoint and the dashboard's token preview all ask
this one function, so what the preview explains is what a client gets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from accounts.models import User
from apis.models import OIDC_SCOPES, Api
from clients.models import Client
from clients.selectors import client_grant_scopes

from .selectors import user_permission_values


@dataclass(frozen=True)
class ScopeDecision:
    scope: str
    granted: bool
    reason: str


class NoClientGrant(Exception):
    """A machine client asked for an API it was never granted."""


def decide_scopes(
    *, user: User | None, client: Client, api: Api | None, requested: Iterable[str], machine: bool = False
) -> list[ScopeDecision]:
    """Decide every requested scope (duplicates dropped, order kept).

    A ``machine`` client (client credentials) needs a client grant for ``api``
    (``NoClientGrant`` otherwise) and then gets only what it was granted: all of it when it
    asks for nothing in particular. A person gets OpenID scopes and, on an API with RBAC,
    only the scopes that are their effective permissions.
    """
    requested = list(dict.fromkeys(requested))
    api_scopes = {scope.value for scope in api.scopes.all()} if api is not None else set()

    if machine:
        granted = client_grant_scopes(client=client, api=api) if api is not None else None
        if granted is None:
            raise NoClientGrant
        if not requested:
            return [ScopeDecision(s, True, "granted to the application") for s in sorted(granted)]
        return [
            ScopeDecision(s, True, "granted to the application")
            if s in granted
            else ScopeDecision(s, False, _machine_refusal(s, api, api_scopes))
            for s in requested
        ]

    held = (
        user_permission_values(user, api) if user is not None and api is not None and api.rbac_enabled else {}
    )
    decisions = []
    for scope in requested:
        if scope in OIDC_SCOPES:
            decisions.append(ScopeDecision(scope, True, _oidc_reason(scope, api)))
        elif api is None:
            decisions.append(ScopeDecision(scope, False, "no audience: the token is for /userinfo only"))
        elif scope not in api_scopes:
            decisions.append(ScopeDecision(scope, False, f"{api.name} has no such scope"))
        elif not api.rbac_enabled:
            decisions.append(
                ScopeDecision(scope, True, f"RBAC is off for {api.name}: every scope is allowed")
            )
        elif scope in held:
            decisions.append(ScopeDecision(scope, True, "; ".join(held[scope])))
        else:
            decisions.append(ScopeDecision(scope, False, "not a permission of the user"))
    return decisions


def _oidc_reason(scope: str, api: Api | None) -> str:
    if scope == "offline_access" and (api is None or not api.allow_offline_access):
        return "OpenID Connect scope (no refresh token: offline access is off for this API)"
    return "OpenID Connect scope"


def _machine_refusal(scope: str, api: Api, api_scopes: set[str]) -> str:
    if scope in OIDC_SCOPES:
        return "OpenID Connect scopes are for people, not machine clients"
    if scope not in api_scopes:
        return f"{api.name} has no such scope"
    return "not granted to the application"


def granted(decisions: list[ScopeDecision]) -> list[str]:
    return [decision.scope for decision in decisions if decision.granted]
