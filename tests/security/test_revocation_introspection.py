"""Catalogue: revocation and introspection.

Revocation ends a grant, only for the client it was issued to, and never tells whether a
token exists; introspection answers authenticated POSTs only, and an inactive token is
exactly ``{"active": false}``. See also tests/security/test_revocation.py.
"""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any

import jwt
import pytest
from django.test import Client as HttpClient

from apis.models import Api
from apis.tokens import ApiSigning, mint_access_token
from clients.services import client_grant_set, client_introspection_set
from tests.oauth import TIMESHEETS_API, basic_auth, client_credentials

from .helpers import api_status, assert_token_error, refresh, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]


@pytest.fixture
def tokens(public_client, user_client, timesheets_api) -> dict:
    return sign_in(user_client, public_client.client_id)


@pytest.fixture
def resource_server(confidential_client, timesheets_api) -> str:
    """The Basic credentials the API's resource server introspects with: a client allowed to
    introspect the API's tokens (tests/security/test_introspection_scope.py: no one else)."""
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    client_introspection_set(client=client, api=timesheets_api, allowed=True)
    return basic_auth(client.client_id, secret)


def _revoke(token: str, **kwargs):
    return HttpClient().post("/oauth/revoke", {"token": token, **kwargs.pop("data", {})}, **kwargs)


def _alive(public_client, tokens: dict) -> None:
    assert api_status(tokens["access_token"]) == HTTPStatus.OK
    assert refresh(public_client.client_id, tokens["refresh_token"]).status_code == HTTPStatus.OK


# --- Revocation -------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["refresh_token", "access_token"])
def test_revoking_a_token_ends_its_grant(public_client, tokens, which):
    response = _revoke(tokens[which], data={"client_id": public_client.client_id, "token_type_hint": which})
    assert response.status_code == HTTPStatus.OK
    assert api_status(tokens["access_token"]) == HTTPStatus.UNAUTHORIZED
    assert_token_error(refresh(public_client.client_id, tokens["refresh_token"]), "invalid_grant")


@pytest.mark.parametrize("which", ["refresh_token", "access_token"])
def test_a_foreign_public_client_cannot_revoke_your_token(public_client, other_public_client, tokens, which):
    response = _revoke(tokens[which], data={"client_id": other_public_client.client_id})
    assert response.status_code == HTTPStatus.OK  # RFC 7009: says nothing about the token
    _alive(public_client, tokens)


@pytest.mark.parametrize("which", ["refresh_token", "access_token"])
def test_a_foreign_confidential_client_cannot_revoke_your_token(
    public_client, other_confidential_client, tokens, which
):
    other, secret = other_confidential_client
    response = _revoke(tokens[which], HTTP_AUTHORIZATION=basic_auth(other.client_id, secret))
    assert response.status_code == HTTPStatus.OK
    _alive(public_client, tokens)


@pytest.mark.parametrize("token", ["no-such-token", "x" * 255, "eyJhbGciOiJub25lIn0.e30."])
def test_unknown_tokens_get_200(public_client, confidential_client, token):
    assert _revoke(token, data={"client_id": public_client.client_id}).status_code == HTTPStatus.OK
    client, secret = confidential_client
    response = _revoke(token, HTTP_AUTHORIZATION=basic_auth(client.client_id, secret))
    assert response.status_code == HTTPStatus.OK


def test_a_known_and_an_unknown_token_answer_the_same(public_client, other_public_client, tokens):
    mine_elsewhere = _revoke(tokens["refresh_token"], data={"client_id": other_public_client.client_id})
    unknown = _revoke("no-such-token", data={"client_id": other_public_client.client_id})
    assert (mine_elsewhere.status_code, mine_elsewhere.content) == (unknown.status_code, unknown.content)


@pytest.mark.parametrize("credentials", ["wrong-secret", "unknown-client"])
def test_bad_client_credentials_get_401_and_revoke_nothing(
    public_client, confidential_client, tokens, credentials
):
    client, _ = confidential_client
    client_id = client.client_id if credentials == "wrong-secret" else "no-such-client"
    response = _revoke(tokens["refresh_token"], HTTP_AUTHORIZATION=basic_auth(client_id, "wrong"))
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)
    _alive(public_client, tokens)


def test_revocation_needs_post(public_client, tokens):
    response = HttpClient().get(
        "/oauth/revoke", {"token": tokens["refresh_token"], "client_id": public_client.client_id}
    )
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    _alive(public_client, tokens)


# --- Introspection ----------------------------------------------------------------------------


def _introspect(token: str, **headers):
    return HttpClient().post("/oauth/introspect", {"token": token}, **headers)


def test_an_active_token_is_introspected_for_an_authenticated_client(tokens, resource_server):
    response = _introspect(tokens["access_token"], HTTP_AUTHORIZATION=resource_server)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["active"] is True


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="none"),
        pytest.param("wrong-secret", id="wrong-secret"),
        pytest.param("user-token", id="a-users-access-token"),
        pytest.param("public-client", id="public-client-id-only"),
    ],
)
def test_introspection_needs_authorization(public_client, confidential_client, tokens, authorization):
    headers: dict[str, Any] = {}
    data = {"token": tokens["access_token"]}
    if authorization == "wrong-secret":
        headers["HTTP_AUTHORIZATION"] = basic_auth(confidential_client[0].client_id, "wrong")
    elif authorization == "user-token":
        headers["HTTP_AUTHORIZATION"] = f"Bearer {tokens['access_token']}"
    elif authorization == "public-client":
        data["client_id"] = public_client.client_id
    response = HttpClient().post("/oauth/introspect", data, **headers)
    assert response.status_code in {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}
    assert b'"active": true' not in response.content
    assert b"scope" not in response.content


def test_introspection_refuses_get(tokens, resource_server):
    response = HttpClient().get(
        "/oauth/introspect", {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=resource_server
    )
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert b"active" not in response.content


def _expired_copy(token: str) -> str:
    """The same token signed again as our server signs it, but expired an hour ago (the
    token says when it expires: no row is consulted)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    now = int(time.time())
    claims |= {"iat": now - 7200, "exp": now - 3600}
    return mint_access_token(claims, signing=ApiSigning.of(Api.objects.get(identifier=TIMESHEETS_API)))


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired", "refresh-token", "garbage"])
def test_inactive_tokens_answer_exactly_active_false(public_client, tokens, resource_server, state):
    token = tokens["access_token"]
    if state == "unknown":
        token = "no-such-token"
    elif state == "revoked":
        _revoke(tokens["refresh_token"], data={"client_id": public_client.client_id})
    elif state == "expired":
        token = _expired_copy(token)
    elif state == "refresh-token":
        token = tokens["refresh_token"]
    elif state == "garbage":
        token = "\x00<script>"
    response = _introspect(token, HTTP_AUTHORIZATION=resource_server)
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"active": False}


def test_introspection_without_a_token_is_invalid_request(resource_server):
    response = HttpClient().post("/oauth/introspect", {}, HTTP_AUTHORIZATION=resource_server)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_request"


def test_a_machine_token_is_introspected_like_any_other(confidential_client, timesheets_api, resource_server):
    client, secret = confidential_client
    token = client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()["access_token"]
    body = _introspect(token, HTTP_AUTHORIZATION=resource_server).json()
    assert body["active"] is True
    assert body["client_id"] == client.client_id
