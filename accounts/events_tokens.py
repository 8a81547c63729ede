"""The token endpoint's events: one per access token issued (``token.issue.<grant type>``)
and one per refused request (``token.failure.<grant type>``, with the OAuth error), read
from the response the endpoint is about to send and buffered (``accounts.events``).

A success is described from the access token's own claims (audience, person, grant,
scopes), decoded without a query; the token itself, the refresh token, the ID token and
whatever the client sent as credentials or codes are never recorded.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponseBase

from .events import event_later

# Grant types we serve; anything else a client sends is recorded as ``other`` (its name
# stays in the details), so that the types in the log are a short, known list.
GRANT_TYPES = {
    "authorization_code": "authorization_code",
    "refresh_token": "refresh_token",
    "client_credentials": "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code": "device_code",
}
# A device polling while its person has not answered yet (RFC 8628 §3.5) is waiting, not
# failing: one every few seconds per device would bury the refusals worth reading.
STILL_WAITING = frozenset({"authorization_pending", "slow_down"})
ISSUE_PREFIX = "token.issue."
FAILURE_PREFIX = "token.failure."
DESCRIPTION_MAX = 300


def _json_object(raw: bytes | str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _payload(jwt: str) -> dict[str, Any]:
    """The claims of a JWT we have just signed, without checking the signature again."""
    parts = jwt.split(".")
    if len(parts) != 3:
        return {}
    try:
        return _json_object(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return {}


def _first(audience: Any) -> str:
    if isinstance(audience, list):
        audience = audience[0] if audience else ""
    return audience if isinstance(audience, str) else ""


def token_request_record(
    request: HttpRequest, response: HttpResponseBase, *, client_id_of: Callable[[HttpRequest], str]
) -> None:
    """Record the token endpoint's answer to ``request``; ``client_id_of`` reads the client
    id it claims (the endpoint knows where a client may put it)."""
    if response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
        grant_type = client_id = audience = ""  # the body was never read: leave it so
    else:
        grant_type, client_id = request.POST.get("grant_type", ""), client_id_of(request)
        audience = request.POST.get("resource") or request.POST.get("audience") or ""
    token_response_record(
        grant_type=grant_type,
        client_id="" if client_id == "?" else client_id,
        requested_audience=audience,
        status=response.status_code,
        body=getattr(response, "content", b""),
    )


def token_response_record(
    *, grant_type: str, client_id: str, requested_audience: str, status: int, body: bytes
) -> None:
    """Record what the token endpoint answered ``status`` / ``body`` to a request for
    ``grant_type`` by ``client_id`` (the one it claims) for ``requested_audience``."""
    known = GRANT_TYPES.get(grant_type, "other")
    details: dict[str, Any] = {"grant_type": grant_type[:60], "status": status}
    response = _json_object(body)
    if response.get("error") in STILL_WAITING:
        return
    if status == HTTPStatus.OK and "access_token" in response:
        claims = _payload(str(response["access_token"]))
        details |= {
            "scope": str(response.get("scope", claims.get("scope", ""))),
            "expires_in": response.get("expires_in"),
            "grant": claims.get("gid"),
            "jti": claims.get("jti"),
            "refresh_token_issued": "refresh_token" in response,
            "id_token_issued": "id_token" in response,
        }
        event_later(
            action=ISSUE_PREFIX + known,
            client_id=str(claims.get("client_id") or client_id),
            audience=_first(claims.get("aud")),
            subject=str(claims.get("sub") or ""),
            details=details,
        )
        return
    details |= {
        "error": str(response.get("error", ""))[:60],
        "error_description": str(response.get("error_description", ""))[:DESCRIPTION_MAX],
    }
    event_later(
        action=FAILURE_PREFIX + known, client_id=client_id, audience=requested_audience, details=details
    )
