from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from oauth2_provider import views as oauth2_views
from oauth2_provider.scopes import get_scopes_backend

from accounts.claims import CLAIM_SCOPES
from clients.models import Client

from .server import SUPPORTED_GRANT_TYPES


def _with_issuer(uri: str) -> str:
    """Add RFC 9207 ``iss`` to an authorization response that lacks it."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "iss" for name, _ in query):
        return uri
    return urlunsplit(parts._replace(query=urlencode([*query, ("iss", settings.OIDC_ISSUER)])))


class AuthorizationView(oauth2_views.AuthorizationView):
    """DOT's authorization endpoint, with every redirect to the client carrying ``iss``.

    DOT adds ``iss`` to successful responses only; clients that defend against mix-up
    attacks need it on errors too (RFC 9207 §2). DOT also passes no application for errors
    found while validating, which would check the callback against the global scheme list
    instead of the client's own.
    """

    template_name = "oauth2_provider/authorize.html"

    def redirect(self, redirect_to: str, application: Client | None) -> HttpResponse:
        if application is None:
            # Only reached for errors that oauthlib lets us redirect: the client and its
            # redirect_uri were already validated.
            application = Client.objects.filter(client_id=self.request.GET.get("client_id", "")).first()
        return super().redirect(_with_issuer(redirect_to), application)


class TokenView(oauth2_views.TokenView):
    """DOT's token endpoint without its device flow branch, which we do not offer.

    oauthlib then answers ``unsupported_grant_type`` for the device grant like for any other.
    """

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return self.authorization_flow_token_response(request)


def _endpoint(name: str) -> str:
    return settings.OIDC_ISSUER.rstrip("/") + reverse(f"oauth2_provider:{name}")


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
        "scopes_supported": sorted(get_scopes_backend().get_available_scopes()),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(SUPPORTED_GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [*CLAIM_SCOPES, "iss", "aud", "exp", "iat", "auth_time", "nonce"],
        "prompt_values_supported": ["none", "login"],
        "authorization_response_iss_parameter_supported": True,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
    response = JsonResponse(data)
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response
