"""A single-page app may call the token endpoint from its registered web origins only."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from clients.models import Client
from clients.services import client_create
from tests.oauth import Pkce, authorize_url, consent, redirect_params

pytestmark = pytest.mark.django_db
SPA_ORIGIN = "https://spa.abcinc.example"
CALLBACK = f"{SPA_ORIGIN}/callback"


@pytest.fixture
def spa(db) -> Client:
    client, _ = client_create(
        app_type=Client.AppType.SPA,
        name="Timesheets Web",
        redirect_uris=[CALLBACK],
        allowed_origins=[SPA_ORIGIN],
    )
    return client


def test_preflight_answers_only_registered_origins(spa):
    allowed = HttpClient().options("/oauth/token", HTTP_ORIGIN=SPA_ORIGIN)
    assert allowed.status_code == HTTPStatus.NO_CONTENT
    assert allowed["Access-Control-Allow-Origin"] == SPA_ORIGIN
    assert "Content-Type" in allowed["Access-Control-Allow-Headers"]

    refused = HttpClient().options("/oauth/token", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in refused
    assert "Origin" in refused["Vary"]


def _code(user_client, spa: Client, pkce: Pkce) -> str:
    return redirect_params(consent(user_client, authorize_url(spa.client_id, pkce, redirect_uri=CALLBACK)))[
        "code"
    ]


@pytest.mark.parametrize(("origin", "allowed"), [(SPA_ORIGIN, True), ("https://evil.example", False)])
def test_the_token_response_allows_the_spa_origin_only(spa, user_client, origin, allowed):
    pkce = Pkce.new()
    body = {
        "grant_type": "authorization_code",
        "code": _code(user_client, spa, pkce),
        "redirect_uri": CALLBACK,
        "client_id": spa.client_id,
        "code_verifier": pkce.verifier,
    }
    response = HttpClient().post(
        "/oauth/token", json.dumps(body), content_type="application/json", HTTP_ORIGIN=origin
    )
    assert response.status_code == HTTPStatus.OK
    assert (response.get("Access-Control-Allow-Origin") == origin) is allowed
