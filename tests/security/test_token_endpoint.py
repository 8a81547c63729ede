"""Catalogue: token endpoint.

A code is single-use (a replay revokes what it issued), short-lived and bound to its
client and redirect URI; responses are never cached; only the advertised grants exist;
client authentication fails the same way whether or not the client exists. See also
tests/authz/test_authorization_code_flow.py, tests/authz/test_discovery.py and
tests/security/test_revocation.py.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from clients.models import Client
from clients.services import client_create, client_grant_set
from tests.oauth import (
    LOOPBACK_CALLBACK,
    MOBILE_CALLBACK,
    TIMESHEETS_API,
    Pkce,
    basic_auth,
    client_credentials,
    exchange,
    get_code,
)

from .helpers import SCOPE, api_status, assert_token_error, refresh, sign_in, web_code, web_exchange

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
Grant = get_grant_model()


@pytest.fixture(autouse=True)
def _timesheets_api(timesheets_api):
    """Every code here is for the Timesheets API, with a refresh token."""


def _code(http, client_id: str, **params: str) -> tuple[str, Pkce]:
    pkce = Pkce.new()
    return get_code(http, client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API, **params), pkce


def _post(pairs: list[tuple[str, str]], **headers):
    """A form body with parameters exactly as given, repeats included."""
    return HttpClient().post(
        "/oauth/token", urlencode(pairs), content_type="application/x-www-form-urlencoded", **headers
    )


def _assert_no_tokens() -> None:
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.exists()


# --- Single use -------------------------------------------------------------------------------


def test_a_replayed_code_is_invalid_grant_and_revokes_the_first_redemption(
    public_client, user_client, timesheets_api
):
    code, pkce = _code(user_client, public_client.client_id)
    first = exchange(user_client, public_client.client_id, code, pkce.verifier).json()
    assert api_status(first["access_token"]) == HTTPStatus.OK

    assert_token_error(exchange(user_client, public_client.client_id, code, pkce.verifier), "invalid_grant")
    assert api_status(first["access_token"]) == HTTPStatus.UNAUTHORIZED
    assert_token_error(refresh(public_client.client_id, first["refresh_token"]), "invalid_grant")


def test_a_replay_also_revokes_tokens_refreshed_since(public_client, user_client, timesheets_api):
    code, pkce = _code(user_client, public_client.client_id)
    first = exchange(user_client, public_client.client_id, code, pkce.verifier).json()
    rotated = refresh(public_client.client_id, first["refresh_token"]).json()
    assert api_status(rotated["access_token"]) == HTTPStatus.OK

    assert_token_error(exchange(user_client, public_client.client_id, code, pkce.verifier), "invalid_grant")
    assert api_status(rotated["access_token"]) == HTTPStatus.UNAUTHORIZED
    assert_token_error(refresh(public_client.client_id, rotated["refresh_token"]), "invalid_grant")


def test_a_replay_by_the_confidential_client_revokes_too(web_client, user_client, timesheets_api):
    client, secret = web_client
    code = web_code(user_client, client.client_id, scope="openid read:timesheets", audience=TIMESHEETS_API)
    first = web_exchange(client.client_id, secret, code)
    assert first.status_code == HTTPStatus.OK
    assert_token_error(web_exchange(client.client_id, secret, code), "invalid_grant")
    assert api_status(first.json()["access_token"]) == HTTPStatus.UNAUTHORIZED


# --- Bound to its client and redirect URI -----------------------------------------------------


def test_a_code_is_bound_to_its_client(public_client, other_public_client, user_client):
    code, pkce = _code(user_client, public_client.client_id)
    stolen = exchange(user_client, other_public_client.client_id, code, pkce.verifier)
    assert_token_error(stolen, "invalid_grant")
    _assert_no_tokens()


def test_a_confidential_clients_code_cannot_be_redeemed_without_its_secret(web_client, user_client):
    client, _ = web_client
    code = web_code(user_client, client.client_id)
    as_public = HttpClient().post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://rp.example.test/callback",
            "client_id": client.client_id,
        },
    )
    assert_token_error(as_public, "invalid_client", HTTPStatus.UNAUTHORIZED)
    _assert_no_tokens()


@pytest.mark.parametrize(
    ("authorized", "redeemed"),
    [
        pytest.param(MOBILE_CALLBACK, LOOPBACK_CALLBACK, id="other-registered-callback"),
        pytest.param("http://127.0.0.1:5000/callback", "http://127.0.0.1:5001/callback", id="other-port"),
        pytest.param("http://127.0.0.1:5000/callback", "http://127.0.0.1/callback", id="port-dropped"),
        pytest.param(MOBILE_CALLBACK, MOBILE_CALLBACK + "?x=1", id="added-query"),
        pytest.param(MOBILE_CALLBACK, None, id="missing"),
    ],
)
def test_a_code_is_bound_to_its_redirect_uri(public_client, user_client, authorized, redeemed):
    code, pkce = _code(user_client, public_client.client_id, redirect_uri=authorized)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": public_client.client_id,
        "code_verifier": pkce.verifier,
        "redirect_uri": redeemed,
    }
    response = HttpClient().post("/oauth/token", {k: v for k, v in data.items() if v is not None})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] in {"invalid_grant", "invalid_request"}
    assert "access_token" not in response.json()
    _assert_no_tokens()


# --- Lifetime ---------------------------------------------------------------------------------


def test_codes_live_at_most_60_seconds(public_client, user_client):
    code, pkce = _code(user_client, public_client.client_id)
    grant = Grant.objects.get(code=code)
    assert grant.expires - timezone.now() <= timedelta(seconds=60)

    # 61 seconds later:
    Grant.objects.filter(pk=grant.pk).update(
        created=grant.created - timedelta(seconds=61), expires=timezone.now() - timedelta(seconds=1)
    )
    assert_token_error(exchange(user_client, public_client.client_id, code, pkce.verifier), "invalid_grant")
    _assert_no_tokens()


# --- Responses --------------------------------------------------------------------------------


def _assert_uncacheable_json(response) -> None:
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def test_token_responses_are_uncacheable_json_with_token_type_bearer(
    public_client, user_client, confidential_client, timesheets_api
):
    code, pkce = _code(user_client, public_client.client_id)
    issued = exchange(user_client, public_client.client_id, code, pkce.verifier)
    refreshed = refresh(public_client.client_id, issued.json()["refresh_token"])
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    machine = client_credentials(client.client_id, secret, audience=TIMESHEETS_API)
    for response in (issued, refreshed, machine):
        assert response.status_code == HTTPStatus.OK, response.content
        _assert_uncacheable_json(response)
        assert response.json()["token_type"] == "Bearer"


@pytest.mark.parametrize(
    "request_kwargs",
    [
        pytest.param({"data": {"grant_type": "authorization_code", "code": "x"}}, id="invalid-client"),
        pytest.param(
            {"data": {"grant_type": "authorization_code", "code": "x", "client_id": "test-mobile"}},
            id="invalid-grant",
        ),
        pytest.param(
            {"data": {"grant_type": "password", "client_id": "test-mobile"}}, id="unsupported-grant"
        ),
        pytest.param({"data": "{not json", "content_type": "application/json"}, id="bad-json"),
        pytest.param({"data": "[]", "content_type": "application/json"}, id="json-not-an-object"),
        pytest.param({"data": {}}, id="empty"),
    ],
)
def test_token_errors_are_uncacheable_json_too(public_client, request_kwargs):
    response = HttpClient().post("/oauth/token", **request_kwargs)
    assert response.status_code in {HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED}
    _assert_uncacheable_json(response)
    assert response.json()["error"]


def test_an_invalid_target_at_refresh_is_uncacheable_json_too(public_client, user_client, hs256_api):
    tokens = sign_in(user_client, public_client.client_id)
    response = refresh(public_client.client_id, tokens["refresh_token"], audience=hs256_api.identifier)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    _assert_uncacheable_json(response)
    assert response.json()["error"] == "invalid_target"


# --- Only the advertised grants ---------------------------------------------------------------


GRANTS_NOT_OFFERED = [
    "password",
    "implicit",
    "token",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "urn:openid:params:grant-type:ciba",
]


@pytest.mark.parametrize("grant_type", GRANTS_NOT_OFFERED)
@pytest.mark.parametrize("kind", ["public", "machine", "web"])
def test_grants_not_offered_are_refused_for_every_client(
    public_client, confidential_client, web_client, user, password, kind, grant_type
):
    data = {"grant_type": grant_type, "username": user.email, "password": password, "scope": "openid"}
    headers: dict[str, Any] = {}
    if kind == "public":
        data["client_id"] = public_client.client_id
    else:
        client, secret = confidential_client if kind == "machine" else web_client
        headers["HTTP_AUTHORIZATION"] = basic_auth(client.client_id, secret)
    response = HttpClient().post("/oauth/token", data, **headers)
    assert_token_error(response, "unsupported_grant_type")
    _assert_no_tokens()


@pytest.mark.parametrize("kind", ["public", "machine", "web"])
def test_the_device_grant_is_refused_to_clients_without_the_device_flow(
    public_client, confidential_client, web_client, kind
):
    data = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "x"}
    headers: dict[str, Any] = {}
    if kind == "public":
        data["client_id"] = public_client.client_id
    else:
        client, secret = confidential_client if kind == "machine" else web_client
        headers["HTTP_AUTHORIZATION"] = basic_auth(client.client_id, secret)
    assert_token_error(HttpClient().post("/oauth/token", data, **headers), "unauthorized_client")
    _assert_no_tokens()


def test_the_password_grant_is_refused_in_a_json_body_too(public_client, user, password):
    body = {
        "grant_type": "password",
        "username": user.email,
        "password": password,
        "client_id": "test-mobile",
    }
    response = HttpClient().post("/oauth/token", body, content_type="application/json")
    assert_token_error(response, "unsupported_grant_type")


# --- Client authentication --------------------------------------------------------------------


def _cc(**kwargs):
    return HttpClient().post(
        "/oauth/token", {"grant_type": "client_credentials", "audience": TIMESHEETS_API}, **kwargs
    )


@pytest.mark.parametrize("credentials", ["wrong-secret", "unknown-client"])
def test_failed_basic_authentication_is_401_invalid_client_with_a_basic_challenge(
    confidential_client, timesheets_api, credentials
):
    client, _ = confidential_client
    client_id = client.client_id if credentials == "wrong-secret" else "no-such-client"
    response = _cc(HTTP_AUTHORIZATION=basic_auth(client_id, "wrong-secret"))
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)
    assert response["WWW-Authenticate"].lower().startswith("basic")


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Basic not-base64!", id="not-base64"),
        pytest.param("Basic " + base64.b64encode(b"no-colon").decode(), id="no-colon"),
        pytest.param("Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(), id="not-utf8"),
        pytest.param("Basic ", id="empty"),
    ],
)
def test_malformed_basic_credentials_are_401_invalid_client(
    confidential_client, timesheets_api, authorization
):
    response = _cc(HTTP_AUTHORIZATION=authorization)
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)


def test_a_wrong_posted_secret_is_401_invalid_client(timesheets_api):
    client, _ = client_create(
        app_type=Client.AppType.M2M, name="Poster", token_endpoint_auth_method=Client.AuthMethod.POST
    )
    response = HttpClient().post(
        "/oauth/token",
        {
            "grant_type": "client_credentials",
            "audience": TIMESHEETS_API,
            "client_id": client.client_id,
            "client_secret": "wrong",
        },
    )
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)


def _shape(response) -> tuple:
    return response.status_code, response.json(), response.get("WWW-Authenticate")


def test_failed_authentication_gives_no_hint_whether_the_client_exists(confidential_client, timesheets_api):
    client, _ = confidential_client
    via_basic = [
        _cc(HTTP_AUTHORIZATION=basic_auth(cid, "wrong-secret")) for cid in (client.client_id, "nobody")
    ]
    assert _shape(via_basic[0]) == _shape(via_basic[1])

    posted = [
        HttpClient().post(
            "/oauth/token",
            {
                "grant_type": "client_credentials",
                "audience": TIMESHEETS_API,
                "client_id": cid,
                "client_secret": "x",
            },
        )
        for cid in (client.client_id, "nobody")
    ]
    assert _shape(posted[0]) == _shape(posted[1])
    assert posted[0].status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize("body_client", ["same", "other"])
def test_two_authentication_methods_at_once_are_invalid_request(
    confidential_client, other_confidential_client, timesheets_api, body_client
):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    other, other_secret = other_confidential_client
    posted_id, posted_secret = (
        (client.client_id, secret) if body_client == "same" else (other.client_id, other_secret)
    )
    response = HttpClient().post(
        "/oauth/token",
        {
            "grant_type": "client_credentials",
            "audience": TIMESHEETS_API,
            "client_id": posted_id,
            "client_secret": posted_secret,
        },
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert_token_error(response, "invalid_request")
    _assert_no_tokens()


# --- Repeated parameters ----------------------------------------------------------------------


@pytest.mark.parametrize("repeated", ["code", "grant_type", "redirect_uri", "client_id", "code_verifier"])
def test_a_repeated_parameter_at_the_token_endpoint_is_invalid_request(public_client, user_client, repeated):
    code, pkce = _code(user_client, public_client.client_id)
    pairs = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", MOBILE_CALLBACK),
        ("client_id", public_client.client_id),
        ("code_verifier", pkce.verifier),
    ]
    value = dict(pairs)[repeated]
    response = _post([*pairs, (repeated, value)])
    assert_token_error(response, "invalid_request")
    _assert_no_tokens()


def test_a_json_body_with_a_duplicated_key_is_invalid_request(public_client, user_client):
    code, pkce = _code(user_client, public_client.client_id)
    fields = [
        ("grant_type", "authorization_code"),
        ("code", "bogus"),
        ("code", code),  # a second "code": json.loads would silently keep this one
        ("redirect_uri", MOBILE_CALLBACK),
        ("client_id", "test-mobile"),
        ("code_verifier", pkce.verifier),
    ]
    body = "{" + ", ".join(f"{json.dumps(name)}: {json.dumps(value)}" for name, value in fields) + "}"
    response = HttpClient().post("/oauth/token", body, content_type="application/json")
    assert_token_error(response, "invalid_request")
    _assert_no_tokens()


@pytest.mark.parametrize("value", [["a", "b"], {"x": 1}, None, True, 1.5])
def test_a_json_parameter_that_is_not_a_string_is_invalid_request(public_client, user_client, value):
    _, pkce = _code(user_client, public_client.client_id)
    body = {
        "grant_type": "authorization_code",
        "code": value,
        "redirect_uri": MOBILE_CALLBACK,
        "client_id": "test-mobile",
        "code_verifier": pkce.verifier,
    }
    response = HttpClient().post("/oauth/token", body, content_type="application/json")
    assert_token_error(response, "invalid_request")
    _assert_no_tokens()


def test_sign_in_still_works_after_all_that(public_client, user_client, timesheets_api):
    """The positive control for this file's refusals."""
    assert api_status(sign_in(user_client, public_client.client_id)["access_token"]) == HTTPStatus.OK
