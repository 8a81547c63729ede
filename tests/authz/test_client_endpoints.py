"""The back-channel endpoints refuse ambiguous or oversized requests before any lookup."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from clients.services import client_grant_set
from tests.oauth import Pkce, authorize_url, basic_auth

pytestmark = pytest.mark.django_db


def test_a_failed_basic_authentication_is_challenged_for_basic(confidential_client, timesheets_api):
    client, _ = confidential_client
    response = HttpClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials", "audience": timesheets_api.identifier},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, "wrong"),
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_an_unknown_client_looks_like_a_wrong_secret(confidential_client, timesheets_api):
    known, _ = confidential_client
    answers = [
        HttpClient().post(
            "/oauth/token",
            {"grant_type": "client_credentials", "audience": timesheets_api.identifier},
            HTTP_AUTHORIZATION=basic_auth(client_id, "wrong"),
        )
        for client_id in (known.client_id, "no-such-client")
    ]
    first, second = ((answer.status_code, answer.json(), answer["WWW-Authenticate"]) for answer in answers)
    assert first == second


def test_two_client_authentication_methods_at_once_are_refused(confidential_client, timesheets_api):
    client, secret = confidential_client
    response = HttpClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": secret},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("name", ["grant_type", "code", "client_id", "redirect_uri"])
def test_a_parameter_sent_twice_is_invalid_request(public_client, name):
    body = f"grant_type=authorization_code&code=x&redirect_uri=a&client_id={public_client.client_id}"
    body += f"&{name}=again"
    response = HttpClient().post("/oauth/token", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_request"
    assert "more than once" in response.json()["error_description"]


@pytest.mark.parametrize("field", ["scope", "code", "client_id"])
def test_oversized_parameters_are_refused_fast(public_client, field):
    response = HttpClient().post(
        "/oauth/token",
        {"grant_type": "authorization_code", "client_id": public_client.client_id, field: "x" * 1_000_000},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_request"


def test_oversized_state_at_authorize_is_an_error_page_not_a_redirect(public_client, user_client):
    response = user_client.get(authorize_url(public_client.client_id, Pkce.new(), state="s" * 65_536))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response


def test_a_long_honest_state_is_echoed_byte_for_byte(public_client, user_client):
    state = "".join(chr(ord("a") + i % 26) for i in range(2000)) + "-_.~"
    response = user_client.get(authorize_url(public_client.client_id, Pkce.new(), state=state))
    form = response.context["form"]
    assert form.initial["state"] == state


def test_introspection_by_get_is_refused(confidential_client):
    client, secret = confidential_client
    response = HttpClient().get(
        "/oauth/introspect?token=abc", HTTP_AUTHORIZATION=basic_auth(client.client_id, secret)
    )
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "POST"


def test_introspection_of_an_unknown_token_says_exactly_inactive(confidential_client):
    client, secret = confidential_client
    response = HttpClient().post(
        "/oauth/introspect", {"token": "nope"}, HTTP_AUTHORIZATION=basic_auth(client.client_id, secret)
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"active": False}


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_back_channel_endpoints_need_no_csrf_token(path, confidential_client, timesheets_api):
    """Clients are not browsers: a real server enforces CSRF, and these must not need it."""
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    http = HttpClient(enforce_csrf_checks=True)
    response = http.post(
        path,
        {"grant_type": "client_credentials", "audience": timesheets_api.identifier, "token": "x"},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert response.status_code == HTTPStatus.OK, response.content


def test_json_token_requests_need_no_csrf_token_either(confidential_client, timesheets_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    response = HttpClient(enforce_csrf_checks=True).post(
        "/oauth/token",
        json.dumps({"grant_type": "client_credentials", "audience": timesheets_api.identifier}),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert response.status_code == HTTPStatus.OK
