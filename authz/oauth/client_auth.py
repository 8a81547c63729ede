"""How a client says who it is at the back-channel endpoints: HTTP Basic or the body."""

from __future__ import annotations

import base64
from urllib.parse import unquote

from django.http import HttpRequest


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
    """The client id a request claims (Basic or body, form or JSON), for counting its failures."""
    authorization = request.headers.get("Authorization", "")
    if uses_basic(authorization):
        return basic_client_id(authorization) or "?"
    return request.POST.get("client_id", "?")
