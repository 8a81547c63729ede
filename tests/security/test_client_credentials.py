"""Catalogue: client credentials.

A machine token names one audience, carries only the client's granted scopes, never a
refresh token or OpenID scope, and can never pass for a person. See also
tests/clients/test_grants_and_refresh.py and tests/clients/test_types_and_callbacks.py.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient

from clients.models import Client
from clients.services import client_create, client_grant_set
from tests.oauth import TIMESHEETS_API, Pkce, authorize_url, basic_auth, client_credentials
from timesheets.models import Entry

from .helpers import TEST_API, assert_no_redirect, assert_token_error, jwt_parts

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]


@pytest.fixture
def machine(confidential_client, timesheets_api) -> tuple[Client, str]:
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets", "create:timesheets"])
    return client, secret


def _token(machine, **params) -> dict:
    response = client_credentials(*[machine[0].client_id, machine[1]], **params)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


# --- Audience ---------------------------------------------------------------------------------


def test_an_audience_is_required(machine):
    assert_token_error(client_credentials(machine[0].client_id, machine[1]), "invalid_request")


def test_an_unknown_audience_is_invalid_target(machine):
    response = client_credentials(machine[0].client_id, machine[1], audience="https://unknown.example/api")
    assert_token_error(response, "invalid_target")


def test_two_audiences_at_once_are_invalid_target(machine, hs256_api):
    response = HttpClient().post(
        "/oauth/token",
        urlencode(
            [
                ("grant_type", "client_credentials"),
                ("audience", TIMESHEETS_API),
                ("audience", hs256_api.identifier),
            ]
        ),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(machine[0].client_id, machine[1]),
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] in {"invalid_target", "invalid_request"}
    assert "access_token" not in response.json()


def test_the_token_is_bound_to_its_audience_only(machine, hs256_api):
    claims = jwt_parts(_token(machine, audience=TIMESHEETS_API)["access_token"])[1]
    assert claims["aud"] == TIMESHEETS_API  # one audience, not the userinfo endpoint


def test_a_token_for_another_api_is_refused_by_this_one(confidential_client, hs256_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=hs256_api, scopes=["read:reports"])
    token = _token((client, secret), audience=hs256_api.identifier)["access_token"]
    response = HttpClient().get(TEST_API, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


# --- Scope --------------------------------------------------------------------------------------


def test_scopes_beyond_the_grant_are_dropped(machine):
    body = _token(
        machine, audience=TIMESHEETS_API, scope="read:timesheets approve:timesheets delete:timesheets"
    )
    assert body["scope"] == "read:timesheets"
    assert jwt_parts(body["access_token"])[1]["scope"] == "read:timesheets"


def test_asking_only_for_scopes_beyond_the_grant_gets_none_of_them(machine):
    # Nothing grantable is refused outright, as Auth0 does (issue 12), not an empty token.
    response = client_credentials(
        machine[0].client_id, machine[1], audience=TIMESHEETS_API, scope="approve:timesheets"
    )
    body = assert_token_error(response, "access_denied", HTTPStatus.FORBIDDEN)
    assert "approve:timesheets" in body["error_description"]


def test_without_a_client_grant_nothing_is_issued(confidential_client, timesheets_api):
    client, secret = confidential_client
    assert_token_error(
        client_credentials(client.client_id, secret, audience=TIMESHEETS_API),
        "access_denied",
        HTTPStatus.FORBIDDEN,
    )


def test_no_refresh_token_no_id_token_no_openid_scope(machine):
    body = _token(machine, audience=TIMESHEETS_API, scope="openid offline_access read:timesheets")
    assert "refresh_token" not in body
    assert "id_token" not in body
    granted = set(body["scope"].split())
    assert not {"openid", "profile", "email", "offline_access"} & granted
    claims = jwt_parts(body["access_token"])[1]
    assert not {"openid", "profile", "email", "offline_access"} & set(claims["scope"].split())
    assert "email" not in claims


@pytest.mark.parametrize("scope", ["openid profile email", "offline_access"])
def test_only_openid_scopes_get_no_token_at_all(machine, scope):
    response = client_credentials(machine[0].client_id, machine[1], audience=TIMESHEETS_API, scope=scope)
    body = assert_token_error(response, "access_denied", HTTPStatus.FORBIDDEN)
    assert "id_token" not in body and "refresh_token" not in body


def test_a_machine_token_is_refused_at_userinfo(machine):
    token = _token(machine, audience=TIMESHEETS_API, scope="openid read:timesheets")["access_token"]
    response = HttpClient().get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code in {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}
    assert b'"sub"' not in response.content


# --- Never a person ---------------------------------------------------------------------------


def test_a_client_id_never_collides_with_a_users_sub(user, timesheets_api):
    lookalike, secret = client_create(app_type=Client.AppType.M2M, name="Lookalike", client_id=str(user.sub))
    client_grant_set(client=lookalike, api=timesheets_api, scopes=["read:timesheets"])
    token = _token((lookalike, secret), audience=TIMESHEETS_API)["access_token"]
    claims = jwt_parts(token)[1]
    assert claims["sub"] != str(user.sub)
    assert claims["gty"] == "client-credentials"

    seen = HttpClient().get(TEST_API, HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert seen["machine"] is True
    assert seen["sub"] != str(user.sub)


@pytest.mark.urls("config.urls")
def test_the_timesheets_api_never_treats_a_machine_token_as_a_user(user, staff_user, timesheets_api):
    lookalike, secret = client_create(app_type=Client.AppType.M2M, name="Lookalike", client_id=str(user.sub))
    client_grant_set(client=lookalike, api=timesheets_api, scopes=["read:timesheets", "create:timesheets"])
    token = _token((lookalike, secret), audience=TIMESHEETS_API)["access_token"]
    http = HttpClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    # It reads as a machine (every entry, for payroll; issue 12), not as the person whose
    # sub its client id copies: another worker's entry is listed too.
    Entry.objects.create(worker=staff_user, date="2026-11-16", project="Apollo", minutes=60)
    listed = http.get("/api/timesheets")
    assert listed.status_code == HTTPStatus.OK
    assert [row["worker"] for row in listed.json()["results"]] == [staff_user.email]
    created = http.post(
        "/api/timesheets",
        {"date": "2026-11-16", "project": "Apollo", "hours": "2"},
        content_type="application/json",
    )
    assert created.status_code == HTTPStatus.FORBIDDEN
    assert not Entry.objects.filter(worker=user).exists()


# --- Only machine clients -----------------------------------------------------------------------


def test_a_public_client_cannot_use_client_credentials(public_client, timesheets_api):
    response = HttpClient().post(
        "/oauth/token",
        {
            "grant_type": "client_credentials",
            "audience": TIMESHEETS_API,
            "client_id": public_client.client_id,
        },
    )
    assert response.status_code in {HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED}
    assert response.json()["error"] in {"unauthorized_client", "invalid_client"}
    assert "access_token" not in response.json()


def test_a_regular_web_app_cannot_use_client_credentials(web_client, timesheets_api):
    client, secret = web_client
    response = client_credentials(client.client_id, secret, audience=TIMESHEETS_API)
    assert_token_error(response, "unauthorized_client")


def test_a_machine_client_cannot_start_an_authorization_code_flow(confidential_client, user_client):
    client, _ = confidential_client
    assert_no_redirect(user_client.get(authorize_url(client.client_id, Pkce.new())))
