"""OpenID Provider metadata (discovery): only what this server really does."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from accounts.claims import CLAIM_SCOPES
from accounts.issuer import issuer_url
from apis.models import OIDC_SCOPES
from clients.models import Client

from .server import SUPPORTED_GRANT_TYPES


def _endpoint(name: str) -> str:
    return issuer_url(f"oauth2_provider:{name}")


def _backchannel_metadata() -> dict[str, bool]:
    """Back-channel logout is advertised once an application uses it, and session support
    (``sid``) once one asks for it (Back-Channel Logout 1.0 §2.1: only when true)."""
    clients = Client.objects.exclude(backchannel_logout_uri="")
    if not clients.exists():
        return {}
    metadata = {"backchannel_logout_supported": True}
    if clients.filter(backchannel_logout_session_required=True).exists():
        metadata["backchannel_logout_session_supported"] = True
    return metadata


@require_GET
def openid_configuration(request: HttpRequest) -> JsonResponse:
    """OpenID Provider metadata: only what this server really does."""
    auth_methods = settings.OAUTH2_PROVIDER["OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED"]
    data = {
        "issuer": settings.OIDC_ISSUER,
        "authorization_endpoint": _endpoint("authorize"),
        "token_endpoint": _endpoint("token"),
        "userinfo_endpoint": _endpoint("user-info"),
        "jwks_uri": _endpoint("jwks-info"),
        "revocation_endpoint": _endpoint("revoke-token"),
        "introspection_endpoint": _endpoint("introspect"),
        "end_session_endpoint": _endpoint("rp-initiated-logout"),
        "scopes_supported": sorted(OIDC_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(SUPPORTED_GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [*CLAIM_SCOPES, "iss", "aud", "exp", "iat", "auth_time", "nonce"],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": True,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
    data.update(_backchannel_metadata())
    response = JsonResponse(data)
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response
