"""How django-oauth-toolkit turns a Django request into oauthlib's."""

from __future__ import annotations

from django.http import HttpRequest
from oauth2_provider import oauth2_backends

# Set by us from the Django session, never from the client: a client's headers reach META
# only with an ``HTTP_`` prefix, so this bare key cannot be forged. It carries the signed-in
# user's id to the validator while /authorize is validated (oauthlib knows no user yet).
SESSION_USER = "X-Abc-Session-User"


class OAuthLibCore(oauth2_backends.OAuthLibCore):
    def extract_headers(self, request: HttpRequest) -> dict[str, str]:
        headers = super().extract_headers(request)
        headers.pop(SESSION_USER, None)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            headers[SESSION_USER] = str(user.pk)
        return headers
