"""Small helpers shared by the security tests, on top of tests.oauth."""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from django.test import Client as HttpClient

from tests.oauth import TIMESHEETS_API, Pkce, authorize_url, basic_auth, consent, exchange, get_code

WEB_CALLBACK = "https://rp.example.test/callback"
OTHER_CALLBACK = "com.other.app://callback"
SCOPE = "openid offline_access read:timesheets"
TEST_API = "/test-api/"  # the protected view of tests.apis.urls


def sign_in(http: HttpClient, client_id: str, *, scope: str = SCOPE, **params: str) -> dict:
    """The whole code flow for a signed-in browser; returns the token response."""
    pkce = Pkce.new()
    code = get_code(http, client_id, pkce, scope=scope, **{"audience": TIMESHEETS_API, **params})
    response = exchange(http, client_id, code, pkce.verifier, **_redirect(params))
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _redirect(params: dict[str, str]) -> dict[str, str]:
    return {"redirect_uri": params["redirect_uri"]} if "redirect_uri" in params else {}


def refresh(client_id: str, token: str, **extra: str):
    data = {"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id, **extra}
    return HttpClient().post("/oauth/token", data)


def api_status(token: str) -> int:
    """What the protected test API answers to this bearer token."""
    return HttpClient().get(TEST_API, HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def query_lists(response) -> dict[str, list[str]]:
    """Every value of every parameter in the redirect's query (repeated ones included)."""
    return parse_qs(urlsplit(response["Location"]).query, keep_blank_values=True)


def web_code(http: HttpClient, client_id: str, pkce: Pkce | None = None, **params: str) -> str:
    """A code for the regular web app, with or without PKCE."""
    response = consent(http, authorize_url(client_id, pkce, redirect_uri=WEB_CALLBACK, **params))
    assert response.status_code == HTTPStatus.FOUND, response.content
    assert response["Location"].startswith(WEB_CALLBACK + "?"), response["Location"]
    return parse_qs(urlsplit(response["Location"]).query)["code"][0]


def web_exchange(client_id: str, secret: str, code: str, **extra: str):
    """The regular web app redeems a code with HTTP Basic, its registered method."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": WEB_CALLBACK, **extra}
    return HttpClient().post(
        "/oauth/token",
        {k: v for k, v in data.items() if v is not None},
        HTTP_AUTHORIZATION=basic_auth(client_id, secret),
    )


def jwt_parts(token: str) -> tuple[dict, dict]:
    """Header and claims of a JWT, unverified (to look, never to trust)."""
    header, payload, _ = token.split(".")
    return _b64json(header), _b64json(payload)


def _b64json(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def assert_token_error(response, error: str, status: int = HTTPStatus.BAD_REQUEST) -> dict:
    """An RFC 6749 §5.2 error: the status, the code, and nothing token-like."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error, body
    assert not {"access_token", "refresh_token", "id_token"} & set(body)
    return body


def assert_no_redirect(response) -> None:
    """An error page: 400, and the browser is sent nowhere."""
    assert response.status_code == HTTPStatus.BAD_REQUEST, (response.status_code, response.get("Location"))
    assert "Location" not in response
