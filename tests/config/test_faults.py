"""When the database is down: 503 to retry, no stack trace, and tokens still verify."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.db import OperationalError
from django.test import Client as HttpClient

from accounts import views
from apis import keys, tokens
from tests.oauth import TIMESHEETS_API, Pkce, exchange, get_code

pytestmark = pytest.mark.django_db


def _database_down(*args, **kwargs):
    raise OperationalError("could not connect to server: Connection refused")


def test_protocol_endpoints_answer_503_temporarily_unavailable(monkeypatch):
    monkeypatch.setattr(keys, "signing_keys_published", _database_down)
    response = HttpClient(raise_request_exception=False).get("/.well-known/jwks.json")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {
        "error": "temporarily_unavailable",
        "error_description": "The service is unavailable, try again shortly.",
    }
    assert response["Retry-After"] == "5"
    assert b"Connection refused" not in response.content and b"Traceback" not in response.content


def test_pages_show_an_error_page_without_details(monkeypatch, staff_user):
    monkeypatch.setattr(views.User.objects, "count", _database_down)
    http = HttpClient(raise_request_exception=False)
    http.force_login(staff_user)
    response = http.get("/dashboard/")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert b"Temporarily unavailable" in response.content
    assert b"Connection refused" not in response.content


def test_access_tokens_keep_verifying_from_cached_keys(
    monkeypatch, public_client, user_client, timesheets_api
):
    pkce = Pkce.new()
    code = get_code(
        user_client, public_client.client_id, pkce, scope="read:timesheets", audience=TIMESHEETS_API
    )
    token = exchange(user_client, public_client.client_id, code, pkce.verifier).json()["access_token"]
    assert tokens.verify_access_token(token, audience=TIMESHEETS_API)  # warms the caches
    monkeypatch.setattr(tokens.Api.objects, "filter", _database_down)
    monkeypatch.setattr(tokens.SigningKey.objects, "only", _database_down)
    assert tokens.verify_access_token(token, audience=TIMESHEETS_API)["aud"] == TIMESHEETS_API
