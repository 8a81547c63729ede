"""What a token says: the claims of an access token and whether a refresh token comes too.

The token endpoint and the dashboard's token preview both build tokens from here, so the
preview shows what a client gets.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection
from typing import Any

from django.conf import settings

from accounts.issuer import issuer_url
from accounts.models import User
from apis.models import OFFLINE_ACCESS, OPENID, Api
from clients.models import Client

from .selectors import user_permission_values


def userinfo_url() -> str:
    return issuer_url("oauth2_provider:user-info")


def access_token_lifetime(api: Api | None) -> int:
    """Seconds an access token lives: the API's setting, or that of /userinfo tokens."""
    return api.token_lifetime if api is not None else settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]


def refresh_token_allowed(scopes: Collection[str], api: Api | None) -> bool:
    """A refresh token only for offline_access to an API that allows offline access."""
    return OFFLINE_ACCESS in scopes and api is not None and api.allow_offline_access


def permissions_claim(api: Api, user: User | None, *, scopes: list[str]) -> list[str]:
    """The ``permissions`` claim: what the user (or machine client) may do on the API.

    With RBAC, a user's effective permissions for the API. A machine client's are the
    scopes this token was granted, never more of its client grant than it carries (what a
    resource server reading ``permissions`` instead of ``scope`` allows must be the same).
    Without RBAC nothing is assigned, so it lists the API scopes of this token.
    """
    if user is not None and api.rbac_enabled:
        return sorted(user_permission_values(user, api))
    api_scopes = {scope.value for scope in api.scopes.all()}
    return [scope for scope in scopes if scope in api_scopes]


def access_token_claims(
    *,
    user: User | None,
    client: Client,
    api: Api | None,
    scopes: list[str],
    lifetime: int,
    rule_claims: dict[str, Any] | None = None,
    grant_id: Any = None,
) -> dict[str, Any]:
    """The claims of an RFC 9068 access token. ``user`` is None for a machine client.

    ``gid`` names the grant (a sign-in and its refresh tokens) so that revoking the grant
    reaches the token at the resource server (see ``apis.revocation``).
    """
    client_id = client.client_id
    audience = [api.identifier] if api is not None else []
    if user is not None and (api is None or OPENID in scopes):
        audience.append(userinfo_url())

    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.OIDC_ISSUER,
        "sub": str(user.sub) if user is not None else f"{client_id}@clients",
        "aud": audience[0] if len(audience) == 1 else audience,
        "azp": client_id,
        "client_id": client_id,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
    }
    if grant_id is not None:
        claims["gid"] = str(grant_id)
    if user is None:
        claims["gty"] = "client-credentials"
    if api is not None and api.add_permissions_claim:
        claims["permissions"] = permissions_claim(api, user, scopes=scopes)
    claims.update(rule_claims or {})
    return claims
