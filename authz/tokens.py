"""The token policy: which API a request is for, which scopes it gets, what its token says.

One code path serves every grant. Auth0's ``audience`` parameter is treated as an RFC 8707
``resource`` indicator, so django-oauth-toolkit carries it from ``/authorize`` through
the code and the refresh token without help.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from django.conf import settings
from django.db.models import F
from django.urls import reverse
from oauth2_provider.models import get_refresh_token_model
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from apis.models import OIDC_SCOPES, Api
from apis.selectors import api_by_identifier
from apis.tokens import ApiSigning, mint_access_token
from clients.selectors import client_grant_scopes

CLIENT_CREDENTIALS = "client_credentials"
RefreshToken = get_refresh_token_model()


def userinfo_url() -> str:
    return settings.OIDC_ISSUER.rstrip("/") + reverse("oauth2_provider:user-info")


def requested_audience(request: Request) -> str | None:
    """The one API identifier this request is for, or None for a /userinfo-only token."""
    if request.grant_type == "refresh_token":
        resource = request.refresh_token_instance.resource
    else:
        resource = getattr(request, "resource", None)
    if isinstance(resource, str):
        # oauthlib keeps the last of repeated parameters; RFC 8707 allows repeating it.
        sent = [*request.uri_query_params, *(request.decoded_body or [])]
        resource = [value for name, value in sent if name == "resource"] or [resource]
    identifiers = list(dict.fromkeys(value for value in resource or [] if value))
    if len(identifiers) > 1:
        raise errors.CustomOAuth2Error(
            error="invalid_target", description="Ask for one audience per token.", request=request
        )
    return identifiers[0] if identifiers else None


def audience_api(request: Request) -> Api | None:
    """The registered API the request names (cached on the request); unknown is an error."""
    if not hasattr(request, "audience_api"):
        identifier = requested_audience(request)
        api = api_by_identifier(identifier) if identifier is not None else None
        if identifier is not None and api is None:
            raise errors.CustomOAuth2Error(
                error="invalid_target", description=f"Unknown audience: {identifier}", request=request
            )
        request.audience_api = api
    return request.audience_api


def _api_scopes(api: Api | None) -> set[str]:
    return {scope.value for scope in api.scopes.all()} if api is not None else set()


def grantable_scopes(request: Request, scopes: list[str]) -> list[str]:
    """The requested scopes that may be granted: the rest are dropped, never refused.

    A machine client gets only what its client grant for the API allows (everything
    granted when it asks for nothing in particular) and no OpenID Connect scope; without
    a grant it gets ``access_denied``.
    """
    api = audience_api(request)
    if request.grant_type == CLIENT_CREDENTIALS:
        granted = client_grant_scopes(client=request.client, api=api)
        if granted is None:
            raise errors.AccessDeniedError(
                description=f"This application is not authorized to call {api.identifier}.", request=request
            )
        if not scopes:
            return sorted(granted)
        return [scope for scope in dict.fromkeys(scopes) if scope in granted]
    allowed = _api_scopes(api) | OIDC_SCOPES
    return [scope for scope in dict.fromkeys(scopes) if scope in allowed]


def access_token_lifetime(request: Request) -> int:
    """``expires_in``: the API's lifetime, or the /userinfo token lifetime."""
    api = audience_api(request)
    return api.token_lifetime if api is not None else settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]


def access_token_generator(request: Request) -> str:
    """Mint the RFC 9068 JWT access token (django-oauth-toolkit's ACCESS_TOKEN_GENERATOR).

    Leaves the claims on ``request.access_token_claims`` and the grant the token belongs to
    on ``request.grant_id``, for the record that revocation and introspection read.
    """
    api = audience_api(request)
    client_id = request.client.client_id
    user = None if request.grant_type == CLIENT_CREDENTIALS else request.user
    scopes = list(request.scopes)

    audience = [api.identifier] if api is not None else []
    if user is not None and (api is None or "openid" in scopes):
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
        "exp": now + request.expires_in,
        "jti": str(uuid.uuid4()),
    }
    if user is None:
        claims["gty"] = "client-credentials"
    if api is not None and api.add_permissions_claim:
        api_scopes = _api_scopes(api)
        claims["permissions"] = [scope for scope in scopes if scope in api_scopes]

    if request.grant_type == "refresh_token":
        request.grant_id = request.refresh_token_instance.token_family
    else:
        request.grant_id = uuid.uuid4()
    request.access_token_claims = claims
    return mint_access_token(claims, signing=ApiSigning.of(api) if api is not None else None)


def refresh_token_lock(value: str) -> RefreshToken | None:
    """Lock the refresh token ``value`` names (its newest row) until the transaction ends."""
    checksum = hashlib.sha256(value.encode()).hexdigest()
    return (
        RefreshToken.objects.select_for_update()
        .filter(token_checksum=checksum)
        .order_by(F("revoked").desc(nulls_first=True))
        .first()
    )


def refresh_token_policy(token: dict[str, Any], token_handler: Any, request: Request) -> dict[str, Any]:
    """oauthlib token modifier: a refresh token only for offline_access to an API allowing it."""
    api = audience_api(request)
    offline = "offline_access" in request.scopes and api is not None and api.allow_offline_access
    if not offline:
        token.pop("refresh_token", None)
    return token
