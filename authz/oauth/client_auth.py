"""How a client says who it is at the back-channel endpoints: HTTP Basic or the body."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import unquote

from django.http import HttpRequest
from oauthlib.common import Request

from clients.models import Client

from .client_assertion import assertion_sent, assertion_subject, client_assertion_authenticate


def uses_basic(authorization: str) -> bool:
    """Whether an ``Authorization`` header value is HTTP Basic."""
    return authorization.split(" ", 1)[0].lower() == "basic"


def basic_client_id(authorization: str) -> str | None:
    """The client id in an HTTP Basic header value (RFC 6749 §2.3.1 form-encodes it), or
    None when the value does not decode."""
    try:
        decoded = base64.b64decode(authorization.split(" ", 1)[1]).decode()
    except (ValueError, UnicodeDecodeError, IndexError):
        return None
    return unquote(decoded.split(":", 1)[0])


def claimed_client_id(request: HttpRequest) -> str:
    """The client id a request claims (Basic, body or client assertion, form or JSON), for
    counting its failures."""
    authorization = request.headers.get("Authorization", "")
    if uses_basic(authorization):
        return basic_client_id(authorization) or "?"
    if "client_id" not in request.POST and assertion_sent(request.POST):
        return assertion_subject(request.POST.get("client_assertion", "")) or "?"
    return request.POST.get("client_id", "?")


def request_params(request: Request) -> dict[str, Any]:
    """An oauthlib request's body parameters (the back-channel endpoints read the body only)."""
    return dict(request.decoded_body or ())


def assertion_client(request: Request, params: dict[str, Any]) -> Client:
    """The client a private_key_jwt assertion authenticates (``AssertionRefused`` otherwise);
    a secret sent alongside it, in HTTP Basic or the body, is refused with it."""
    secret = uses_basic(request.headers.get("Authorization", "")) or "client_secret" in params
    return client_assertion_authenticate(params, other_credentials=secret)
