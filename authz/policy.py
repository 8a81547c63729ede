"""The token policy: for each requested scope, whether it is granted and why.

The token endpoint, the authorization endpoint and the dashboard's token preview all ask
these functions, so what the preview explains is what a client gets.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from accounts.models import User
from apis.models import OFFLINE_ACCESS, OIDC_SCOPES, Api

from .selectors import user_permission_values


@dataclass(frozen=True)
class ScopeDecision:
    scope: str
    granted: bool
    reason: str


class NoClientGrant(Exception):
    """A machine client asked for an API it was never granted, or for nothing it was granted."""


def decide_scopes(*, user: User | None, api: Api | None, requested: Iterable[str]) -> list[ScopeDecision]:
    """Decide every scope a person's application asks for (duplicates dropped, order kept).

    A person gets OpenID scopes (``offline_access`` only for an API that allows offline
    access) and, on an API with RBAC, only the scopes that are their effective permissions.
    """
    requested = list(dict.fromkeys(requested))
    api_scopes = _scope_values(api)
    held = (
        user_permission_values(user, api) if user is not None and api is not None and api.rbac_enabled else {}
    )
    decisions = []
    for scope in requested:
        if scope == OFFLINE_ACCESS and (api is None or not api.allow_offline_access):
            # Nothing to promise on the consent screen nor to list in the token: no refresh
            # token comes without an API that allows offline access.
            decisions.append(ScopeDecision(scope, False, _no_offline_access(api)))
        elif scope in OIDC_SCOPES:
            decisions.append(ScopeDecision(scope, True, "OpenID Connect scope"))
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


def decide_machine_scopes(
    *, api: Api | None, requested: Iterable[str], client_grant: Collection[str] | None
) -> list[ScopeDecision]:
    """Decide every scope a machine client (client credentials) asks for.

    It needs a client grant for ``api`` and then gets only what it was granted: all of it
    when it asks for nothing in particular. A request that ends with no scope at all is
    refused, as Auth0 does, rather than answered with an empty token: ``NoClientGrant``,
    whose message names what is missing and reads after the client ("<client> is not ...").
    """
    if api is None or client_grant is None:
        audience = api.identifier if api is not None else "this API"
        raise NoClientGrant(f"is not authorized to call {audience}")
    requested = list(dict.fromkeys(requested))
    if not requested:
        decisions = [ScopeDecision(s, True, "granted to the application") for s in sorted(client_grant)]
    else:
        api_scopes = _scope_values(api)
        decisions = [
            ScopeDecision(s, True, "granted to the application")
            if s in client_grant
            else ScopeDecision(s, False, _machine_refusal(s, api, api_scopes))
            for s in requested
        ]
    if not any(decision.granted for decision in decisions):
        missing = " ".join(requested) if requested else "any scope"
        raise NoClientGrant(f"has not been granted {missing} on {api.identifier}")
    return decisions


def _scope_values(api: Api | None) -> set[str]:
    return {scope.value for scope in api.scopes.all()} if api is not None else set()


def _no_offline_access(api: Api | None) -> str:
    if api is None:
        return "no audience: refresh tokens come only for an API that allows offline access"
    return f"offline access is off for {api.name}: no refresh token"


def _machine_refusal(scope: str, api: Api, api_scopes: set[str]) -> str:
    if scope in OIDC_SCOPES:
        return "OpenID Connect scopes are for people, not machine clients"
    if scope not in api_scopes:
        return f"{api.name} has no such scope"
    return "not granted to the application"


def granted(decisions: list[ScopeDecision]) -> list[str]:
    return [decision.scope for decision in decisions if decision.granted]
