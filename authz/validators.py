"""Our django-oauth-toolkit validator: the place where protocol meets policy."""

from __future__ import annotations

from typing import Any

from oauth2_provider import oauth2_validators
from oauthlib.common import Request

from accounts.claims import CLAIM_SCOPES, claims_for_scopes
from clients.models import Client

from .backends import SESSION_AUTHENTICATED


class OAuth2Validator(oauth2_validators.OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPES

    def is_pkce_required(self, client_id: str, request: Request) -> bool:
        """Public clients must use PKCE; confidential clients may (and then S256 only)."""
        client = request.client or self._load_application(client_id, request)
        return client is None or client.client_type == Client.CLIENT_PUBLIC

    def get_oidc_claims(self, token, token_handler, request: Request) -> dict[str, Any]:
        # One source for the ID token and /userinfo, filtered by the granted scopes.
        return claims_for_scopes(request.user, request.scopes)

    def get_discovery_claims(self, request) -> list[str]:
        return list(CLAIM_SCOPES)

    def validate_silent_login(self, request: Request) -> bool:
        """prompt=none: is someone signed in? (``login_required`` otherwise)."""
        return request.headers.get(SESSION_AUTHENTICATED) == "1"

    def validate_silent_authorization(self, request: Request) -> bool:
        """prompt=none may only succeed when no consent screen would be shown."""
        return bool(request.client and request.client.skip_authorization)
