"""DRF permission: each view action needs the scopes its view declares."""

from __future__ import annotations

from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .authentication import REALM, token_principal


class InsufficientScope(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "insufficient_scope"

    def __init__(self, required: frozenset[str]) -> None:
        scope = " ".join(sorted(required))
        super().__init__(f"This request needs the scope: {scope}.")
        # DRF puts auth_header into WWW-Authenticate (RFC 6750 §3.1).
        self.auth_header = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'


class HasRequiredScopes(BasePermission):
    """Grant access when the token carries every scope the view requires for this request.

    A view declares ``required_scopes``: a mapping from its action (viewsets) or HTTP
    method to the scope(s) needed. A request the mapping does not name is refused.
    """

    def has_permission(self, request: Request, view) -> bool:
        principal = token_principal(request)
        key = getattr(view, "action", None) or request.method
        needed = view.required_scopes.get(key)
        if needed is None:
            raise exceptions.PermissionDenied("This operation is not available with an access token.")
        required = frozenset([needed] if isinstance(needed, str) else needed)
        if not required <= principal.scopes:
            raise InsufficientScope(required)
        return True
