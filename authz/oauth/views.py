"""The protocol endpoints: DOT's views with our checks in front (/authorize, /oauth/token,
/oauth/revoke; /oauth/introspect builds on them in introspection.py)."""

from __future__ import annotations

import hashlib
import json
from typing import cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as oauth2_views

from accounts.dashboard import SignedInRequest
from accounts.events_tokens import token_request_record
from accounts.mfa.context import session_authentication
from accounts.models import User
from apis.selectors import api_by_identifier
from authz.services import consent_remember
from clients.models import Client
from clients.selectors import origin_allowed

from .authentication import StepUpRequired, sign_in_older_than, signed_in_at
from .backchannel import sid_remember
from .client_auth import claimed_client_id
from .client_credentials import fast_client_credentials
from .client_endpoint import ClientEndpointMixin, token_error
from .consent import consent_answered, consent_given, consent_skippable
from .context import CLIENT_CREDENTIALS
from .device import DEVICE_CODE, device_token_response
from .dpop_binding import dpop_token_endpoint
from .par import PushedRequestError, authorization_request_check, pushed_request_answered
from .params import (
    audience_as_resource,
    authorization_params,
    oversized_parameter,
)
from .redemption import authorization_code_lock, refresh_token_lock


def _with_issuer(uri: str) -> str:
    """RFC 9207: exactly one ``iss``, ours, on every authorization response.

    DOT adds it to successful responses only; on errors a registered callback's own ``iss``
    query parameter would otherwise reach the client as if it were ours.
    """
    parts = urlsplit(uri)
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name != "iss"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("iss", settings.OIDC_ISSUER)])))


# OIDC Core §3.1.2.1 max_age: the sign-in this endpoint sends a person to satisfies it, even
# max_age=0. A signed cookie, scoped to this endpoint and valid for a few minutes, records
# when which request asked for a sign-in (one the session store would lose when another
# person signs in: Django flushes the session then). Only a sign-in after that moment counts.
SIGN_IN_ASKED_COOKIE = "authorize_sign_in"
_SIGN_IN_ASKED_SALT = "authz.oauth.views.sign_in_asked"
SIGN_IN_ASKED_SECONDS = 10 * 60


def _prompt(request: HttpRequest) -> set[str]:
    return set(request.GET.get("prompt", "").split())


def _request_key(request: HttpRequest) -> str:
    """Which authorization request this is: its parameters, ``prompt`` aside (the sign-in
    drops ``login`` from it)."""
    pairs = sorted((name, values) for name, values in request.GET.lists() if name != "prompt")
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:32]


def _sign_in_asked_at(request: HttpRequest) -> float | None:
    """When this endpoint sent this browser to sign in for this very request, if it did."""
    mark = request.get_signed_cookie(
        SIGN_IN_ASKED_COOKIE, default=None, salt=_SIGN_IN_ASKED_SALT, max_age=SIGN_IN_ASKED_SECONDS
    )
    key, _, asked_at = (mark or "").partition(" ")
    try:
        return float(asked_at) if key == _request_key(request) else None
    except ValueError:
        return None


def _sign_in_too_old(request: SignedInRequest, asked_at: float | None) -> bool:
    """max_age is not met: the session's sign-in is older, and not one made after this
    request asked for it (at ``asked_at``; in whole seconds, as auth_time is)."""
    at = signed_in_at(session_authentication(request), request.user)
    if not sign_in_older_than(at, request.GET.get("max_age")):
        return False
    return at is None or asked_at is None or at < int(asked_at)


def _without_prompt_login(request: HttpRequest) -> str:
    """This request's URL with ``login`` dropped from ``prompt`` (signing in satisfies it)."""
    prompt = [value for value in request.GET.get("prompt", "").split() if value != "login"]
    query = request.GET.copy()
    if prompt:
        query["prompt"] = " ".join(prompt)
    else:
        query.pop("prompt", None)
    return f"{request.path}?{query.urlencode()}" if query else request.path


class AuthorizationView(oauth2_views.AuthorizationView):
    """DOT's authorization endpoint, taking ``audience`` and always answering with ``iss``.

    DOT adds ``iss`` to successful responses only; clients that defend against mix-up
    attacks need it on errors too (RFC 9207 §2). DOT also passes no application for errors
    found while validating, which would check the callback against the global scheme list
    instead of the client's own.
    """

    template_name = "oauth2_provider/authorize.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        oversized = oversized_parameter(request.GET)
        if oversized:
            # Refused before anything else: no lookup, no redirect to a callback.
            error = {
                "error": "invalid_request",
                "description": f"The parameter {oversized[:40]!r} is too long.",
            }
            return self.render_to_response({"error": error}, status=400)
        prompt, asked_at = _prompt(request), _sign_in_asked_at(request)
        if "none" not in prompt and (
            "login" in prompt or _sign_in_too_old(cast(SignedInRequest, request), asked_at)
        ):
            # prompt=login, or a sign-in older than max_age (OIDC Core §3.1.2.1). With
            # prompt=none, oauthlib answers login_required instead (validate_silent_login).
            return self._sign_in_first()
        asked = request.get_full_path()
        try:
            response = self._authorize(request, prompt, *args, **kwargs)
        except StepUpRequired as step_up:
            return step_up.redirect(asked)
        if asked_at is not None:
            # The sign-in it marked has served: the same request again asks again.
            response.delete_cookie(SIGN_IN_ASKED_COOKIE, path=request.path, samesite="Lax")
        return response

    def _authorize(self, request: HttpRequest, prompt: set[str], *args, **kwargs) -> HttpResponse:
        params = authorization_params(request.GET)
        if params is not request.GET:
            # DOT reads both request.GET and the raw query string: keep them in step.
            request.GET = params  # type: ignore[assignment]  # ours, with audience as resource
            request.META["QUERY_STRING"] = params.urlencode()
        response = super().get(request, *args, **kwargs)
        context = getattr(response, "context_data", None) or {}
        if (
            "form" in context
            and not context.get("error")
            and "consent" not in prompt  # OIDC Core §3.1.2.1: ask, whatever was allowed before
            and self._consent_skippable(context)
        ):
            # The same path as pressing Allow, so nothing differs but the screen.
            form = self.get_form_class()(data={**self._consent_fields(), "allow": "on"})
            if form.is_valid():
                return self.form_valid(form)
        return response

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        """The consent screen's answer: the session may have changed since it was shown."""
        try:
            return super().post(request, *args, **kwargs)
        except StepUpRequired as step_up:
            return step_up.redirect(request.get_full_path())

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        """PAR first (``par``), signed in or not: a request_uri taken sends the browser to the
        pushed request; a refused one ends here."""
        try:
            pushed = authorization_request_check(request)
        except PushedRequestError as refused:
            return self.render_to_response({"error": refused.as_dict()}, status=refused.status)
        return HttpResponseRedirect(pushed) if pushed else super().dispatch(request, *args, **kwargs)

    def handle_no_permission(self) -> HttpResponseRedirect:
        """Nobody is signed in: DOT answers prompt=none and prompt=create; otherwise the
        sign-in that follows satisfies prompt=login and max_age alike."""
        if _prompt(self.request) & {"none", "create"}:
            return super().handle_no_permission()
        return self._sign_in_first()

    def _sign_in_first(self) -> HttpResponseRedirect:
        """Send the person to sign in, then back here with ``prompt=login`` satisfied, and
        mark when this request asked, so that the sign-in satisfies its ``max_age``."""
        response = redirect_to_login(
            _without_prompt_login(self.request), self.get_login_url(), self.get_redirect_field_name()
        )
        if "max_age" in self.request.GET:
            response.set_signed_cookie(
                SIGN_IN_ASKED_COOKIE,
                f"{_request_key(self.request)} {timezone.now().timestamp()}",
                salt=_SIGN_IN_ASKED_SALT,
                max_age=SIGN_IN_ASKED_SECONDS,
                path=self.request.path,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def _consent_fields(self) -> dict[str, str]:
        return {name: value for name, value in self.get_initial().items() if value is not None}

    def _consent_skippable(self, context: dict) -> bool:
        client, audience = context["application"], self._audience(context.get("resource"))
        api = api_by_identifier(audience) if audience else None
        return consent_skippable(client, api) or consent_given(
            user=self._person, client=client, audience=audience, scopes=context["scopes"]
        )

    @property
    def _person(self) -> User:
        # DOT's view lets only signed-in people this far (LoginRequiredMixin).
        return cast(User, self.request.user)

    @staticmethod
    def _audience(resource: str | None) -> str:
        identifiers = (resource or "").split()
        return identifiers[0] if len(identifiers) == 1 else ""

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        allowed = form.cleaned_data.get("allow")
        if self.request.method == "POST":
            consent_answered(
                user=self._person,
                client_id=form.cleaned_data.get("client_id") or "",
                audience=self._audience(form.cleaned_data.get("resource")),
                scopes=form.cleaned_data.get("scope") or "",
                allowed=bool(allowed),
            )
        if (
            self.request.method == "POST"
            and allowed
            and response.status_code == 302
            and "code=" in response["Location"]
        ):
            # Remember what the person allowed, so the next sign-in does not ask again.
            consent_remember(
                user=self._person,
                client=Client.objects.get(client_id=form.cleaned_data["client_id"]),
                audience=self._audience(form.cleaned_data.get("resource")),
                scopes=form.cleaned_data["scope"].split(),
            )
        return response

    def redirect(self, redirect_to: str, application: Client | None) -> HttpResponse:
        if not pushed_request_answered(self.request):
            error = {"error": "invalid_request_uri", "description": "The pushed request was answered."}
            return self.render_to_response({"error": error}, status=400)
        code = dict(parse_qsl(urlsplit(redirect_to).query)).get("code")
        if code and application is not None and application.backchannel_logout_uri:
            # Every code leaves through here (consent, remembered consent, prompt=none): the
            # ID token it is exchanged for names this session (``sid``, back-channel logout).
            sid_remember(code=code, session_key=self.request.session.session_key)
        if application is None:
            # Only reached for errors that oauthlib lets us redirect: the client and its
            # redirect_uri were already validated.
            application = Client.objects.filter(client_id=self.request.GET.get("client_id", "")).first()
        return super().redirect(_with_issuer(redirect_to), application)


class RevokeTokenView(ClientEndpointMixin, oauth2_views.RevokeTokenView):
    pass


class TokenView(ClientEndpointMixin, oauth2_views.TokenView):
    """DOT's token endpoint, also taking JSON bodies and Auth0's ``audience``. The device
    flow's polls go through oauthlib like every grant (``device``), not DOT's own branch."""

    accepts_json = True

    @method_decorator(csrf_exempt)
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        response = super().dispatch(request, *args, **kwargs)
        if request.method == "POST":
            token_request_record(request, response, client_id_of=claimed_client_id)
        return response

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        """The token request, its DPoP proof (if any) checked first (dpop_binding)."""
        return dpop_token_endpoint(request, lambda: self._token_response(request))

    def _token_response(self, request: HttpRequest) -> HttpResponse:
        request.POST = audience_as_resource(request.POST)  # type: ignore[assignment]
        grant_type = request.POST.get("grant_type")
        if grant_type == CLIENT_CREDENTIALS:
            return fast_client_credentials(request) or self.authorization_flow_token_response(request)
        if grant_type == "refresh_token":
            return self._refresh(request)
        if grant_type == DEVICE_CODE:
            return device_token_response(request, self.authorization_flow_token_response)
        if grant_type == "authorization_code":
            # Parallel redemptions of one code queue on its row: the first wins, the others
            # find it redeemed and are treated as the replay they are.
            with transaction.atomic(), authorization_code_lock(request.POST.get("code", "")):
                return self.authorization_flow_token_response(request)
        return self.authorization_flow_token_response(request)

    def authorization_flow_token_response(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        """DOT's, without reading back the token just issued to send ``app_authorized``
        (a query per token; nothing of ours listens to that signal)."""
        _url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status, content_type="application/json")
        for name, value in headers.items():
            response[name] = value
        # RFC 6749 §5.1/5.2, also for errors raised while the token was being saved.
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response

    def options(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        """CORS preflight for single-page apps posting JSON from an allowed web origin.

        The token response itself carries Access-Control-Allow-Origin only for the origins
        of the client that made the request (oauthlib asks ``is_origin_allowed``).
        """
        response = HttpResponse(status=204)
        origin = request.headers.get("Origin", "")
        if origin and origin_allowed(origin):
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "POST"
            response["Access-Control-Allow-Headers"] = "Content-Type, DPoP"
            response["Access-Control-Max-Age"] = "600"
        patch_vary_headers(response, ["Origin"])
        return response

    def _refresh(self, request: HttpRequest) -> HttpResponse:
        """Refresh under a lock on the refresh token, so parallel uses make one successor.

        A request that waited while another rotated the token is a concurrent duplicate,
        not a replay: it is refused without revoking the family the winner continues.
        """
        started = timezone.now()
        with transaction.atomic():
            token = refresh_token_lock(request.POST.get("refresh_token", ""))
            if token is not None and token.revoked is not None and token.revoked >= started:
                return token_error("invalid_grant", "A concurrent request has just used this refresh token.")
            return self.authorization_flow_token_response(request)
