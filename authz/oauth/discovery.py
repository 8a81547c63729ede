"""OpenID Provider metadata (discovery): only what this server really does."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from accounts.claims import CLAIM_SCOPES
from accounts.issuer import issuer_url
from accounts.mfa.context import ACR_VALUES
from apis.dpop import ALGORITHMS as DPOP_ALGORITHMS
from apis.models import OIDC_SCOPES

from .client_assertion import SIGNING_ALGS as ASSERTION_ALGORITHMS
from .server import SUPPORTED_GRANT_TYPES


def _endpoint(name: str) -> str:
    return issuer_url(f"oauth2_provider:{name}")


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
        "device_authorization_endpoint": _endpoint("device-authorization"),
        "end_session_endpoint": _endpoint("rp-initiated-logout"),
        # RFC 9126 §5: any client may push its request; an application may require it.
        "pushed_authorization_request_endpoint": _endpoint("par"),
        "require_pushed_authorization_requests": False,
        "scopes_supported": sorted(OIDC_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(SUPPORTED_GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        # Introspection is for confidential clients (resource servers): no "none".
        "introspection_endpoint_auth_methods_supported": [
            method for method in auth_methods if method != "none"
        ],
        # private_key_jwt's assertions (RFC 8414 §2); never none or HS*.
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "introspection_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "code_challenge_methods_supported": ["S256"],
        # RFC 9449 §5.1: DPoP proofs at the token endpoint, /userinfo and the APIs.
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
        "claims_supported": [*CLAIM_SCOPES, "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr"],
        # Weakest first: a password, any second factor, a passkey (accounts.mfa.context).
        "acr_values_supported": list(ACR_VALUES),
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": True,
        # For the ID token's acr (an essential acr is honoured or refused); other members of
        # a claims request change nothing: the granted scopes decide the claims.
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        # Any application may register a back-channel logout URL, and its ID tokens and
        # logout tokens then carry sid: both true, whatever the registrations (the document
        # reads no database, and stays up when the database is not).
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
    response = JsonResponse(data)
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response
