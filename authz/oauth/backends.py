"""How django-oauth-toolkit turns a Django request into oauthlib's."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from oauth2_provider import oauth2_backends

from accounts.mfa.context import session_authentication

from .context import signed_in


def _signed_in(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    return signed_in(user, session_authentication(request) if authenticated else None)


class OAuthLibCore(oauth2_backends.OAuthLibCore):
    """DOT's backend, telling our validator who is signed in while /authorize is validated.

    (oauthlib knows no user until the person consents; prompt=none, the scope policy and
    the step-up need the session's user, and how they signed in, before that: see
    ``context.signed_in``.)
    """

    def validate_authorization_request(self, request: HttpRequest) -> Any:
        with _signed_in(request):
            return super().validate_authorization_request(request)

    def create_authorization_response(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with _signed_in(request):
            return super().create_authorization_response(request, *args, **kwargs)
