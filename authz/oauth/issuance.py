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
from oauth2_provider.models import get_grant_model, get_refresh_token_model
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from accounts.models import User
from apis.models import Api
from apis.selectors import api_by_identifier
from apis.tokens import ApiSigning, mint_access_token
from authz.policy import NoClientGrant, decide_scopes, granted
from authz.rules import PROTOCOLS, RuleContext, RuleDenied, run_rules
from authz.selectors import user_permission_values
from clients.selectors import client_grant_scopes

from .backends import SESSION_USER

CLIENT_CREDENTIALS = "client_credentials"
RefreshToken = get_refresh_token_model()
Grant = get_grant_model()


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


def permissions_claim(api: Api, user: User | None, *, client, scopes: list[str]) -> list[str]:
    """The ``permissions`` claim: what the user (or machine client) may do on the API.

    With RBAC, a user's effective permissions for the API; a machine client's, its client
    grant. Without RBAC nothing is assigned, so it lists the API scopes of this token.
    """
    if user is None:
        return sorted(client_grant_scopes(client=client, api=api) or ())
    if api.rbac_enabled:
        return sorted(user_permission_values(user, api))
    api_scopes = {scope.value for scope in api.scopes.all()}
    return [scope for scope in scopes if scope in api_scopes]


def session_user(request: Request) -> User | None:
    """The person a request is for: from the grant at /oauth/token, the session at /authorize."""
    if request.user is not None:
        return request.user
    if not hasattr(request, "session_user"):
        user_id = request.headers.get(SESSION_USER)
        request.session_user = User.objects.filter(pk=user_id).first() if user_id else None
    return request.session_user


def grantable_scopes(request: Request, scopes: list[str]) -> list[str]:
    """The requested scopes that may be granted: the rest are dropped, never refused.

    A machine client without a client grant for the API gets ``access_denied``.
    """
    machine = request.grant_type == CLIENT_CREDENTIALS
    try:
        decisions = decide_scopes(
            user=None if machine else session_user(request),
            client=request.client,
            api=audience_api(request),
            requested=scopes,
            machine=machine,
        )
    except NoClientGrant:
        raise errors.AccessDeniedError(
            description=f"This application is not authorized to call {audience_api(request).identifier}.",
            request=request,
        ) from None
    return granted(decisions)


def apply_token_policy(request: Request) -> None:
    """oauthlib post-token validator: the policy again, then the rules, for every grant.

    Runs when the person is known (from the code or refresh token), so a role removed since
    sign-in is gone from the refreshed token. A rule's denial is ``access_denied``.
    """
    requested = tuple(request.scopes)
    if request.grant_type != CLIENT_CREDENTIALS:
        request.scopes = grantable_scopes(request, list(requested))
    context = RuleContext(
        user=None if request.grant_type == CLIENT_CREDENTIALS else request.user,
        client=request.client,
        api=audience_api(request),
        requested_scopes=requested,
        granted_scopes=tuple(request.scopes),
        protocol=PROTOCOLS[request.grant_type],
    )
    try:
        run_rules(context)
    except RuleDenied as error:
        raise errors.AccessDeniedError(description=str(error), request=request) from error
    request.rule_context = context


def access_token_lifetime(request: Request) -> int:
    """``expires_in``: the API's lifetime, or the /userinfo token lifetime."""
    api = audience_api(request)
    return api.token_lifetime if api is not None else settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]


def access_token_claims(
    *,
    user: User | None,
    client,
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
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
    }
    if grant_id is not None:
        claims["gid"] = str(grant_id)
    if user is None:
        claims["gty"] = "client-credentials"
    if api is not None and api.add_permissions_claim:
        claims["permissions"] = permissions_claim(api, user, client=client, scopes=scopes)
    claims.update(rule_claims or {})
    return claims


def access_token_generator(request: Request) -> str:
    """Mint the RFC 9068 JWT access token (django-oauth-toolkit's ACCESS_TOKEN_GENERATOR).

    Leaves the claims on ``request.access_token_claims`` and the grant the token belongs to
    on ``request.grant_id``, for the record that revocation and introspection read.
    """
    api = audience_api(request)
    rule_context = getattr(request, "rule_context", None)
    if request.grant_type == "refresh_token":
        request.grant_id = request.refresh_token_instance.token_family
    else:
        request.grant_id = uuid.uuid4()
    claims = access_token_claims(
        user=None if request.grant_type == CLIENT_CREDENTIALS else request.user,
        client=request.client,
        api=api,
        scopes=list(request.scopes),
        lifetime=request.expires_in,
        rule_claims=rule_context.access_token_claims if rule_context is not None else None,
        grant_id=request.grant_id,
    )
    request.access_token_claims = claims
    return mint_access_token(claims, signing=ApiSigning.of(api) if api is not None else None)


def authorization_code_lock(code: str) -> None:
    """Lock the authorization code's row (if any) until the transaction ends."""
    Grant.objects.select_for_update().filter(code=code).first()


def refresh_token_lock(value: str) -> RefreshToken | None:
    """Lock the refresh token ``value`` names (its newest row) until the transaction ends."""
    checksum = hashlib.sha256(value.encode()).hexdigest()
    return (
        RefreshToken.objects.select_for_update()
        .filter(token_checksum=checksum)
        .order_by(F("revoked").desc(nulls_first=True))
        .first()
    )


def refresh_token_allowed(scopes: list[str], api: Api | None) -> bool:
    """A refresh token only for offline_access to an API that allows offline access."""
    return "offline_access" in scopes and api is not None and api.allow_offline_access


def refresh_token_policy(token: dict[str, Any], token_handler: Any, request: Request) -> dict[str, Any]:
    """oauthlib token modifier: drop the refresh token unless ``refresh_token_allowed``."""
    if not refresh_token_allowed(list(request.scopes), audience_api(request)):
        token.pop("refresh_token", None)
    return token
