"""How django-oauth-toolkit turns a Django request into oauthlib's."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from oauth2_provider import oauth2_backends

from .context import signed_in


class OAuthLibCore(oauth2_backends.OAuthLibCore):
    """DOT's backend, telling our validator who is signed in while /authorize is validated.

    (oauthlib knows no user until the person consents; prompt=none and the scope policy
    need the session's user before that: see ``context.signed_in``.)
    """

    def validate_authorization_request(self, request: HttpRequest) -> Any:
        with signed_in(getattr(request, "user", None)):
            return super().validate_authorization_request(request)

    def create_authorization_response(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with signed_in(getattr(request, "user", None)):
            return super().create_authorization_response(request, *args, **kwargs)
