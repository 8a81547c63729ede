"""/oauth/introspect (RFC 7662): django-oauth-toolkit's endpoint, by POST only, telling each
authenticated client about the tokens it may see: its own, and those of the APIs an
administrator allowed it to introspect (§4). Every other token is inactive to it.

The answer comes from the token itself, verified as its API verifies it (``access_tokens``),
not from a stored row: a machine client's tokens have none."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from oauth2_provider import views as oauth2_views
from oauthlib.oauth2.rfc6749 import errors

from accounts.models import User
from clients.models import Client
from clients.selectors import client_by_client_id

from .access_tokens import api_audiences, verified_claims
from .client_auth import claimed_client_id
from .views import ClientEndpointMixin, token_error

# RFC 7662 §2.2 members copied from the token's claims when present (and RFC 9449 §6.2's
# cnf of a DPoP-bound token).
_MEMBERS = ("scope", "client_id", "exp", "iat", "nbf", "sub", "aud", "iss", "jti", "cnf")


def token_visible_to(caller: Client | None, claims: dict[str, Any]) -> bool:
    """Whether ``caller``, an authenticated client, may learn about the token of ``claims``.

    A client sees its own access tokens, and those whose audience is an API it may
    introspect (``Client.may_introspect``): that API's resource server. To anyone else the
    token is inactive, exactly like an unknown one, so introspection tells a stranger
    nothing (RFC 7662 §2.2). Refresh tokens are never active here.
    """
    if caller is None:
        return False
    if claims.get("client_id") == caller.client_id:
        return True
    audiences = api_audiences(claims)
    return bool(audiences) and caller.may_introspect.filter(identifier__in=audiences).exists()


def introspection_answer(caller: Client | None, token: str) -> dict[str, Any]:
    """RFC 7662's answer about ``token`` for ``caller``: its claims, or exactly inactive."""
    claims = verified_claims(token)
    if claims is None or not token_visible_to(caller, claims):
        return {"active": False}
    answer: dict[str, Any] = {"active": True, "token_type": "DPoP" if "cnf" in claims else "Bearer"}
    answer |= {name: claims[name] for name in _MEMBERS if name in claims}
    if claims.get("gty") != "client-credentials":
        person = User.objects.filter(sub=claims["sub"]).only("email", "is_active").first()
        if person is None or not person.is_active:
            return {"active": False}
        answer["username"] = person.get_username()
    return answer


class IntrospectTokenView(ClientEndpointMixin, oauth2_views.IntrospectTokenView):
    """Introspection by POST only (a token in a URL ends up in logs and histories), by an
    authenticated client, of the tokens it may see (``token_introspectable``)."""

    caller: Client | None = None
    # Why a client assertion was refused (private_key_jwt), to answer invalid_client with it.
    refused: errors.InvalidClientError | None = None

    def authenticate_client(self, request: HttpRequest) -> bool:
        """DOT's client authentication, remembering which client it was."""
        try:
            if not super().authenticate_client(request):
                return False
        except errors.InvalidClientError as error:
            self.refused = error
            return False
        # Our validator accepts only the method the request used: the client it names.
        self.caller = client_by_client_id(claimed_client_id(request))
        return True

    def unauthenticated_response(self, request: HttpRequest, oauthlib_request=None) -> HttpResponse:
        if self.refused is not None:
            return token_error("invalid_client", self.refused.description, status=401)
        return super().unauthenticated_response(request, oauthlib_request)

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = token_error("invalid_request", "Send the token in a POST body.", status=405)
        response["Allow"] = "POST"
        return response

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        token = request.POST.get("token")
        if token is None:
            return token_error("invalid_request", "Token parameter is missing.")
        return JsonResponse(introspection_answer(self.caller, token))
