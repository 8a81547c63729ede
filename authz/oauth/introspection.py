"""/oauth/introspect (RFC 7662): django-oauth-toolkit's endpoint, by POST only, telling each
authenticated client about the tokens it may see: its own, and those of the APIs an
administrator allowed it to introspect (§4). Every other token is inactive to it."""

from __future__ import annotations

import jwt
from django.http import HttpRequest, HttpResponse, JsonResponse
from oauth2_provider import views as oauth2_views
from oauth2_provider.models import get_access_token_model

from accounts.checksums import token_checksum
from apis.revocation import is_revoked
from clients.models import Client

from .client_auth import claimed_client_id
from .views import ClientEndpointMixin, token_error

AccessToken = get_access_token_model()


def token_introspectable(caller: Client | None, token: str) -> bool:
    """Whether ``caller``, an authenticated client, may learn anything about ``token``.

    A client sees its own access tokens, and those whose audience (recorded at issuance) is
    an API it may introspect (``Client.may_introspect``): that API's resource server. To
    anyone else the token is inactive, exactly like an unknown one, so introspection tells
    a stranger nothing (RFC 7662 §2.2). Refresh tokens are never active here:
    django-oauth-toolkit's introspection looks up access tokens only.
    """
    if caller is None:
        return False
    found = (
        AccessToken.objects.filter(token_checksum=token_checksum(token))
        .values_list("application_id", "record__audience")
        .first()
    )
    if found is None:
        return False
    client_pk, audience = found
    if client_pk == caller.pk:
        return True
    return bool(audience) and caller.may_introspect.filter(identifier=audience).exists()


def token_revoked(token: str) -> bool:
    """Whether the revocation list the APIs consult refuses this access token (a person's,
    client's or API's "not before", a lost permission): introspection agrees with the APIs.

    Called for tokens found in our own table, so their claims are ours: read unverified.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return False
    if not {"iat", "sub", "client_id"} <= claims.keys():
        return False
    return is_revoked(claims)


class IntrospectTokenView(ClientEndpointMixin, oauth2_views.IntrospectTokenView):
    """Introspection by POST only (a token in a URL ends up in logs and histories), by an
    authenticated client, of the tokens it may see (``token_introspectable``)."""

    caller: Client | None = None

    def authenticate_client(self, request: HttpRequest) -> bool:
        """DOT's client authentication, remembering which client it was."""
        if not super().authenticate_client(request):
            return False
        # Our validator accepts only the method the request used: the client it names.
        self.caller = Client.objects.filter(client_id=claimed_client_id(request)).first()
        return True

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = token_error("invalid_request", "Send the token in a POST body.", status=405)
        response["Allow"] = "POST"
        return response

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        token = request.POST.get("token")
        if token is not None and (not token_introspectable(self.caller, token) or token_revoked(token)):
            # RFC 7662 §2.2: the same answer as for an unknown token (a bearer token as
            # credentials, which DOT would also accept, names no client: it sees nothing).
            return JsonResponse({"active": False})
        return super().post(request, *args, **kwargs)
