"""The discovery document lists only what works, and what it lists works."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client as HttpClient
from django.urls import resolve

from clients.models import Client
from clients.services import client_create, client_grant_set
from tests.oauth import ISSUER, Pkce, authorize_url, basic_auth, redirect_params

pytestmark = pytest.mark.django_db


@pytest.fixture
def discovery() -> dict:
    response = HttpClient().get("/.well-known/openid-configuration")
    assert response.status_code == HTTPStatus.OK
    return response.json()


def test_issuer_and_endpoints_are_ours(discovery):
    assert discovery["issuer"] == ISSUER
    assert discovery["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert discovery["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert discovery["userinfo_endpoint"] == f"{ISSUER}/userinfo"
    assert discovery["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert discovery["revocation_endpoint"] == f"{ISSUER}/oauth/revoke"
    assert discovery["introspection_endpoint"] == f"{ISSUER}/oauth/introspect"


def test_every_listed_endpoint_is_served(discovery):
    http = HttpClient()
    for key in [k for k in discovery if k.endswith(("_endpoint", "_uri"))]:
        path = urlsplit(discovery[key]).path
        resolve(path)  # raises Resolver404 when nothing is mounted there
        response = http.post(path) if key != "jwks_uri" else http.get(path)
        assert response.status_code != HTTPStatus.NOT_FOUND, key


def test_only_supported_values_are_advertised(discovery):
    assert discovery["response_types_supported"] == ["code"]
    assert discovery["response_modes_supported"] == ["query"]
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(discovery["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
    assert discovery["authorization_response_iss_parameter_supported"] is True
    assert {"openid", "profile", "email"} <= set(discovery["scopes_supported"])
    # The OIDC default for request_uri_parameter_supported is true: say no explicitly.
    assert discovery["request_uri_parameter_supported"] is False


@pytest.mark.parametrize("grant_type", ["password", "implicit"])
def test_grants_not_advertised_are_refused(confidential_client, grant_type):
    client, secret = confidential_client
    response = HttpClient().post(
        "/oauth/token",
        {"grant_type": grant_type, "username": "alice@abcinc.example", "password": "x", "device_code": "x"},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_advertised_client_authentication_methods_work(discovery, timesheets_api, method):
    assert method in discovery["token_endpoint_auth_methods_supported"]
    client, secret = client_create(
        app_type=Client.AppType.M2M, name=f"Batch ({method})", token_endpoint_auth_method=method
    )
    assert secret is not None
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    data = {"grant_type": "client_credentials", "audience": timesheets_api.identifier}
    headers: dict[str, Any] = {}
    if method == "client_secret_basic":
        headers["HTTP_AUTHORIZATION"] = basic_auth(client.client_id, secret)
    else:
        data |= {"client_id": client.client_id, "client_secret": secret}
    response = HttpClient().post("/oauth/token", data, **headers)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["token_type"] == "Bearer"


def test_wrong_client_secret_is_invalid_client(confidential_client):
    client, _ = confidential_client
    response = HttpClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, "wrong-secret"),
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"


def test_prompt_none_without_a_session_is_login_required(public_client):
    response = HttpClient().get(authorize_url(public_client.client_id, Pkce.new(), prompt="none", state="pn"))
    assert response.status_code == HTTPStatus.FOUND
    params = redirect_params(response)
    assert params["error"] == "login_required"
    assert params["state"] == "pn"
    assert params["iss"] == ISSUER


def test_prompt_none_without_consent_is_consent_required(public_client, user_client):
    response = user_client.get(authorize_url(public_client.client_id, Pkce.new(), prompt="none"))
    assert response.status_code == HTTPStatus.FOUND
    params = redirect_params(response)
    assert params["error"] == "consent_required"
    assert params["iss"] == ISSUER


def test_prompt_login_asks_for_the_password_again(public_client, user_client):
    response = user_client.get(authorize_url(public_client.client_id, Pkce.new(), prompt="login"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/")
