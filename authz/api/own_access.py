"""No caller takes away its own Management API access: the job that manages the server
would lock itself out half-way (Auth0's "removing your own last admin right")."""

from __future__ import annotations

from collections.abc import Collection

from accounts.errors import Conflict
from clients.models import Client, ClientGrant


def check_not_self(caller_id: str, client: Client) -> None:
    """Refuse deleting the calling application itself."""
    if client.client_id == caller_id:
        raise Conflict(
            "An application cannot delete itself through the Management API: "
            "another administrator's application or the dashboard can.",
            code="own_access",
        )


def check_keeps_own_grant(caller_id: str, grant: ClientGrant, scopes: Collection[str] | None) -> None:
    """Refuse narrowing (``scopes``) or deleting (None) the caller's own Management API grant."""
    if grant.client.client_id != caller_id or not grant.api.system:
        return
    held = {scope.value for scope in grant.scopes.all()}
    if scopes is None or not held <= set(scopes):
        raise Conflict(
            "This would take away the calling application's own Management API scopes: "
            "another administrator's application or the dashboard can.",
            code="own_access",
        )
