"""The device authorization grant (RFC 8628): command-line tools and TVs sign people in with
a code typed at /activate on another device.

django-oauth-toolkit's ``DeviceGrant`` row holds each request (device code, user code, status,
interval, expiry); ``authz.models.DeviceAuthorization`` adds what it lacks: the audience the
device asked for and how the person who approved it signed in. oauthlib's device endpoint and
grant do the protocol, extended here: only applications with the device flow enabled may use
it, the user code is 8 letters without ambiguous characters, polling too fast is
``slow_down`` (and the interval grows by 5 s, RFC 8628 §3.5), and the tokens, issued by the
same policy and rules as for a code, are issued once: the row goes with them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from oauth2_provider.models import AbstractApplication, AbstractDeviceGrant, get_device_grant_model
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc8628.endpoints import DeviceAuthorizationEndpoint
from oauthlib.oauth2.rfc8628.grant_types import DeviceCodeGrant
from oauthlib.openid.connect.core.grant_types.base import GrantTypeBase as OpenIDGrantTypeBase

from accounts.issuer import issuer_url
from apis.models import OIDC_SCOPES, Scope
from authz.models import DeviceAuthorization
from clients.models import Client
from clients.types import DEVICE_FLOW_TYPES

from .client_auth import basic_client_id, uses_basic
from .context import request_client, request_context
from .sign_ins import SignIn

DEVICE_CODE = AbstractApplication.GRANT_DEVICE_CODE  # "urn:ietf:params:oauth:grant-type:device_code"
# RFC 8628 §6.1: no vowels (no words) and nothing that reads as another character (0/O, 1/I).
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
DEVICE_CODE_SECONDS = 600
POLL_INTERVAL_SECONDS = 5
SLOW_DOWN_SECONDS = 5  # RFC 8628 §3.5: added to the interval at each slow_down

DeviceGrant = get_device_grant_model()
# oauthlib's stubs describe neither the device grant's hooks and statuses nor its endpoint's
# constructor, nor its OpenID grants' base: Any.
_DeviceCodeGrant: Any = DeviceCodeGrant
_DeviceAuthorizationEndpoint: Any = DeviceAuthorizationEndpoint
_OpenIDGrantTypeBase: Any = OpenIDGrantTypeBase


def device_flow_allowed(client: Client | None) -> bool:
    return client is not None and client.device_code_enabled and client.app_type in DEVICE_FLOW_TYPES


def user_code_new() -> str:
    """Eight letters from ``USER_CODE_ALPHABET``: 20^8, about 2^34.6 codes, for ten minutes,
    behind the rate limits of /activate (RFC 8628 §5.1)."""
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def user_code_display(code: str) -> str:
    """``BCDFGHJK`` as people read and type it: ``BCDF-GHJK``."""
    half = USER_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def user_code_normalize(typed: str) -> str | None:
    """What a person typed as the stored code: case, dashes and spaces do not matter. None
    when it cannot be a code at all (the wrong length, a character the codes never use)."""
    code = "".join(typed.split()).replace("-", "").upper()
    if len(code) != USER_CODE_LENGTH or any(char not in USER_CODE_ALPHABET for char in code):
        return None
    return code


# --- The device authorization request (RFC 8628 §3.1-3.2) -------------------------------------


class DeviceGrantType(_DeviceCodeGrant):
    """oauthlib's device grant, for both of its endpoints.

    Refuses applications without the device flow (``unauthorized_client``), checks the scopes
    a device asks for without narrowing them (nobody is signed in yet: the policy decides at
    consent and at the token endpoint), and applies the token modifiers (the refresh-token
    policy, the ID token) that oauthlib's device grant leaves out.
    """

    def validate_grant_type(self, request: Request) -> None:
        if not device_flow_allowed(request.client):
            raise errors.UnauthorizedClientError(
                description="The device flow is not enabled for this application.", request=request
            )

    def validate_client_authentication(self, request: Request) -> None:
        super().validate_client_authentication(request)
        self.validate_grant_type(request)  # at the device endpoint too, before the scopes

    def validate_scopes(self, request: Request) -> None:
        if request.device_code is not None:  # a token request: the policy narrows them
            super().validate_scopes(request)
            return
        requested = list(dict.fromkeys((request.scope or "").split())) or ["openid"]
        audience = request_context(request).audience  # invalid_target for an unknown API
        known = set(OIDC_SCOPES)
        if audience is not None:
            known |= set(Scope.objects.filter(api=audience).values_list("value", flat=True))
        unknown = [scope for scope in requested if scope not in known]
        if unknown:
            raise errors.InvalidScopeError(
                description=f"Unknown scope for this audience: {unknown[0][:60]}", request=request
            )
        request.scopes = requested

    def validate_device_code(self, request: Request) -> None:
        if not request.device_code:
            raise errors.InvalidRequestError("Missing device_code parameter.", request=request)
        status = device_code_status(request)
        if status == self.DEVICE_CODE_AUTHORIZED:
            return
        error_class = self._device_code_errors.get(status or "")
        if error_class is not None:
            raise error_class(request=request)
        raise errors.InvalidGrantError(description="Unknown or already used device_code.", request=request)

    def create_token_response(self, request: Request, token_handler: Any) -> tuple[dict, str, int]:
        headers = self._get_default_headers()
        try:
            self.validate_token_request(request)
        except errors.OAuth2Error as error:
            headers.update(error.headers)
            return headers, error.json, error.status_code
        token = token_handler.create_token(request, self.refresh_token)
        for modifier in self._token_modifiers:
            token = modifier(token, token_handler, request)
        self.request_validator.save_token(token, request)
        # Issued once: a second poll finds no row (invalid_grant). The token endpoint holds
        # the row's lock until this transaction commits (``device_token_response``).
        DeviceGrant.objects.filter(device_code=request.device_code).delete()
        return headers, json.dumps(token), 200


class OpenIDDeviceGrantType(_OpenIDGrantTypeBase):
    """The token endpoint's device grant, with an ID token when ``openid`` was granted (as
    oauthlib's OpenID grants wrap their OAuth 2 ones). The server gives it the token policy,
    the rules and the token modifiers of every grant."""

    def __init__(self, request_validator: Any = None, **kwargs: Any) -> None:
        self.proxy_target = DeviceGrantType(request_validator=request_validator, **kwargs)
        self.register_token_modifier(self.add_id_token)


class DeviceEndpoint(_DeviceAuthorizationEndpoint):
    """oauthlib's device authorization endpoint, which also stores what it answers."""

    def __init__(self, request_validator: Any) -> None:
        verification_uri = issuer_url("oauth2_provider:device-activate")
        super().__init__(
            request_validator,
            verification_uri=verification_uri,
            expires_in=DEVICE_CODE_SECONDS,
            interval=POLL_INTERVAL_SECONDS,
            verification_uri_complete=lambda code: f"{verification_uri}?user_code={code}",
        )
        self.device_code_grant = DeviceGrantType(request_validator)

    def create_device_authorization_response(
        self, uri: str, http_method: Any = "POST", body: Any = None, headers: Any = None
    ) -> tuple[dict, dict, int]:
        request = Request(uri, http_method, body, headers)
        request.grant_type = DEVICE_CODE  # a person's grant, not a machine's, to our hooks
        authorization = request.headers.get("Authorization", "")
        if not request.client_id and uses_basic(authorization):
            # RFC 8628 §3.1: client_id is for clients that do not authenticate (oauthlib
            # asks for it before it looks at HTTP Basic).
            request.client_id = basic_client_id(authorization)
        try:
            self.device_code_grant.validate_device_authorization_request(request)
        except errors.InvalidClientIdError:
            raise errors.InvalidClientError(request=request) from None  # RFC 6749 §5.2: unknown client
        grant = device_grant_create(
            client=request_client(request),
            scopes=list(request.scopes or ()),
            audience=request_context(request).audience_identifier,
        )
        user_code = user_code_display(grant.user_code)
        data = {
            "device_code": grant.device_code,
            "user_code": user_code,
            "verification_uri": self.verification_uri,
            "verification_uri_complete": self.verification_uri_complete(user_code),
            "expires_in": self.expires_in,
            "interval": self.interval,
        }
        return {}, data, 200


@transaction.atomic
def device_grant_create(*, client: Client, scopes: list[str], audience: str) -> AbstractDeviceGrant:
    """A new pending device request, with a user code no other pending request has."""
    now = timezone.now()
    pending = DeviceGrant.objects.filter(status=DeviceGrant.AUTHORIZATION_PENDING, expires__gt=now)
    user_code = user_code_new()
    while pending.filter(user_code=user_code).exists():
        user_code = user_code_new()
    grant = DeviceGrant.objects.create(
        client_id=client.client_id,
        device_code=secrets.token_urlsafe(32),
        user_code=user_code,
        scope=" ".join(scopes),
        interval=POLL_INTERVAL_SECONDS,
        expires=now + timedelta(seconds=DEVICE_CODE_SECONDS),
    )
    DeviceAuthorization.objects.create(device_grant=grant, audience=audience)
    return grant


# --- Polling the token endpoint (RFC 8628 §3.4-3.5) -------------------------------------------

# The row locked for this token request, so that parallel polls queue and one wins.
_locked: ContextVar[AbstractDeviceGrant | None] = ContextVar("locked_device_grant", default=None)


@contextmanager
def device_grant_lock(device_code: str) -> Iterator[None]:
    grant = DeviceGrant.objects.select_for_update().filter(device_code=device_code).first()
    token = _locked.set(grant)
    try:
        yield
    finally:
        _locked.reset(token)


def device_token_response(
    request: HttpRequest, respond: Callable[[HttpRequest], HttpResponse]
) -> HttpResponse:
    """The token endpoint's answer to a poll, under a lock on the device code's row: the
    slow_down bookkeeping and the single issuance hold across workers."""
    with transaction.atomic(), device_grant_lock(request.POST.get("device_code", "")):
        return respond(request)


def device_code_status(request: Request) -> str | None:
    """Where the device code stands for the authenticated client: one of oauthlib's
    ``DEVICE_CODE_*`` statuses, or None for a code unknown to it (another client's included).

    An approved code puts on the request what the tokens are for: the person, the scopes
    and audience they asked for, and how the person signed in.
    """
    grant = _locked.get()
    if grant is None or grant.device_code != request.device_code:
        grant = DeviceGrant.objects.filter(device_code=request.device_code).first()
    if grant is None or grant.client_id != request_client(request).client_id:
        return None
    if grant.status == DeviceGrant.DENIED:
        return DeviceGrantType.DEVICE_CODE_DENIED
    if grant.is_expired():
        return DeviceGrantType.DEVICE_CODE_EXPIRED
    if grant.status == DeviceGrant.AUTHORIZATION_PENDING:
        return _pending_poll(grant)
    if grant.status != DeviceGrant.AUTHORIZED or grant.user is None:
        return None
    details = DeviceAuthorization.objects.filter(device_grant_id=grant.pk).first()
    if details is None:
        return None
    request.user = grant.user
    request.scopes = grant.scope.split()
    request.resource = [details.audience] if details.audience else []  # type: ignore[attr-defined]  # DOT reads it
    request_context(request).sign_in = device_sign_in(details)
    return DeviceGrantType.DEVICE_CODE_AUTHORIZED


def _pending_poll(grant: AbstractDeviceGrant) -> str:
    """A poll while the person has not answered: ``slow_down`` (and 5 s more from now on)
    when it came sooner than the interval after the previous one, or after the code was
    issued; ``authorization_pending`` otherwise."""
    now = timezone.now()
    too_soon = now - grant.last_checked < timedelta(seconds=grant.interval)
    fields = ["last_checked"]  # auto_now: this poll's time
    if too_soon:
        grant.interval += SLOW_DOWN_SECONDS
        fields.append("interval")
    grant.save(update_fields=fields)
    return DeviceGrantType.DEVICE_CODE_SLOW_DOWN if too_soon else DeviceGrantType.DEVICE_CODE_PENDING


def device_sign_in(details: DeviceAuthorization) -> SignIn:
    auth_time = int(details.auth_time.timestamp()) if details.auth_time is not None else None
    return SignIn(amr=list(details.amr), acr=details.acr or None, auth_time=auth_time)


# An expired request stays an hour, so that a device polling late hears expired_token.
EXPIRED_KEPT_SECONDS = 3600


def device_grants_purge() -> int:
    """Forget device requests that expired over an hour ago (answered or not); how many.
    (django-oauth-toolkit's clean-up leaves its device grants alone.)"""
    cutoff = timezone.now() - timedelta(seconds=EXPIRED_KEPT_SECONDS)
    deleted, _ = DeviceGrant.objects.filter(expires__lt=cutoff).delete()
    return deleted
