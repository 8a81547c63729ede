"""The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0): an application signs
the person out of this server, and is sent back to one of its registered logout URLs.

Hand-written rather than django-oauth-toolkit's ``RPInitiatedLogoutView``, which checks an
``id_token_hint`` with the client's *current* key only (a hint signed before a rotation
fails), needs the ID token's database row (gone once the clean-up deletes expired tokens,
although an expired hint is valid here), refuses an unregistered ``post_logout_redirect_uri``
with an error instead of signing out to our own page, and revokes every application's
tokens or none. Its form and messages are reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.models import get_refresh_token_model
from oauthlib.common import add_params_to_uri

from accounts.models import User
from apis.keys import RS256, private_key
from apis.models import SigningKey
from authz.services import refresh_token_revoke
from clients.models import Client

RefreshToken = get_refresh_token_model()
PARAMETERS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")
NOT_ID_TOKENS = frozenset({"at+jwt", "logout+jwt"})
CONFIRM_TEMPLATE = "oauth2_provider/logout_confirm.html"
SIGNED_OUT_TEMPLATE = "oauth2_provider/signed_out.html"


class LogoutRequestError(Exception):
    """A logout request that cannot be trusted: shown on our page, never redirected."""


def hint_claims(token: str) -> dict[str, Any] | None:
    """The claims of an ID token this server signed (any published RSA key), expired or
    not; None when it is not one of ours."""
    try:
        header = jwt.get_unverified_header(token)
        if str(header.get("typ", "")).lower().removeprefix("application/") in NOT_ID_TOKENS:
            return None  # our access and logout tokens are signed with the same keys
        kid = header.get("kid")
        key = SigningKey.objects.filter(kid=str(kid), algorithm=RS256).first() if kid else None
        if key is None:
            return None
        claims = jwt.decode(
            token,
            private_key(key).public_key(),
            algorithms=["RS256"],
            issuer=settings.OIDC_ISSUER,
            options={"verify_exp": False, "verify_aud": False, "require": ["sub", "aud", "iss"]},
        )
    except jwt.InvalidTokenError:
        return None
    return claims


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims["aud"]
    return [aud] if isinstance(aud, str) else [str(item) for item in aud]


@dataclass
class LogoutRequest:
    """A checked request: who asked, for whom, and where the person may be sent back."""

    client: Client | None
    hint_user: User | None
    redirect_uri: str | None
    state: str

    @classmethod
    def parse(cls, params: dict[str, str]) -> LogoutRequest:
        """Check the parameters; raise LogoutRequestError for a hint or client that fails.

        An unregistered ``post_logout_redirect_uri`` is not an error: the person is signed
        out to our own page (``redirect_uri`` None), never sent anywhere unregistered.
        """
        client_id, hint = params.get("client_id", ""), params.get("id_token_hint", "")
        client = None
        hint_user = None
        if hint:
            claims = hint_claims(hint)
            if claims is None:
                raise LogoutRequestError("The ID token hint was not issued by this server.")
            audiences = _audiences(claims)
            if client_id and client_id not in audiences:
                raise LogoutRequestError("The ID token hint was issued to another application.")
            client = Client.objects.filter(client_id__in=[client_id] if client_id else audiences).first()
            if client is None:
                raise LogoutRequestError("The ID token hint names no registered application.")
            hint_user = User.objects.filter(sub=claims["sub"]).first()
        elif client_id:
            client = Client.objects.filter(client_id=client_id).first()
            if client is None:
                raise LogoutRequestError("No application is registered with this client_id.")
        uri = params.get("post_logout_redirect_uri", "")
        registered = client.post_logout_redirect_uris.split() if client is not None else []
        return cls(client, hint_user, uri if uri in registered else None, params.get("state", ""))

    def must_confirm(self, request: HttpRequest) -> bool:
        """OIDC RP-Initiated Logout §2: ask the person unless the hint names them."""
        user = request.user
        return bool(user.is_authenticated and (self.hint_user is None or self.hint_user.pk != user.pk))


def client_refresh_tokens_revoke(*, user: User, client: Client) -> int:
    """End every grant ``client`` holds for ``user`` (its refresh tokens and their access
    tokens, audited); how many grants ended."""
    families: set[Any] = set()
    tokens = RefreshToken.objects.filter(user=user, application=client, revoked__isnull=True)
    for token in tokens.select_related("application", "user"):
        if token.token_family is None or token.token_family not in families:
            families.add(token.token_family)
            refresh_token_revoke(actor=user, token=token)
    return len(families)


def _csrf_refused(request: HttpRequest) -> bool:
    """Whether Django's CSRF check refuses ``request`` (this view is exempt as a whole)."""

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    return CsrfViewMiddleware(view).process_view(request, view, (), {}) is not None


@method_decorator(never_cache, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")  # an application may POST the request itself
class EndSessionView(View):
    """GET or POST: the logout request; a POST with ``confirm`` (CSRF-checked): the person's
    answer on our confirmation screen."""

    http_method_names = ["get", "post"]

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._handle(request, {name: request.GET.get(name, "") for name in PARAMETERS})

    def post(self, request: HttpRequest) -> HttpResponse:
        params = {name: request.POST.get(name, "") for name in PARAMETERS}
        if "confirm" not in request.POST:
            return self._handle(request, params)
        # The answer to our own form: a cross-site page must not be able to give it.
        if _csrf_refused(request):
            return self._error(request, "The confirmation expired. Please try again.")
        try:
            logout_request = LogoutRequest.parse(params)
        except LogoutRequestError as error:
            return self._error(request, str(error))
        if request.POST["confirm"] != "yes":
            return render(request, SIGNED_OUT_TEMPLATE, {"stayed": True, "client": logout_request.client})
        return self._sign_out(request, logout_request)

    def _handle(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        try:
            logout_request = LogoutRequest.parse(params)
        except LogoutRequestError as error:
            return self._error(request, str(error))
        if logout_request.must_confirm(request):
            context = {"params": params, "client": logout_request.client}
            return render(request, CONFIRM_TEMPLATE, context)
        return self._sign_out(request, logout_request)

    def _sign_out(self, request: HttpRequest, logout_request: LogoutRequest) -> HttpResponse:
        client = logout_request.client
        user = logout_request.hint_user or (request.user if request.user.is_authenticated else None)
        if client is not None and client.logout_revokes_refresh_tokens and isinstance(user, User):
            client_refresh_tokens_revoke(user=user, client=client)
        logout(request)  # sends user_logged_out: back-channel logout follows
        if client is not None and logout_request.redirect_uri:
            uri = logout_request.redirect_uri
            if logout_request.state:
                uri = add_params_to_uri(uri, [("state", logout_request.state)])
            return OAuth2ResponseRedirect(uri, client.get_allowed_schemes())
        return render(request, SIGNED_OUT_TEMPLATE, {"client": client})

    def _error(self, request: HttpRequest, message: str) -> HttpResponse:
        return render(request, SIGNED_OUT_TEMPLATE, {"error": message}, status=400)
