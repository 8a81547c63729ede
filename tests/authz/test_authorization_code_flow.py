"""Authorization Code + PKCE, end to end, as a native app would run it."""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from tests.oauth import (
    ISSUER,
    LOOPBACK_CALLBACK,
    MOBILE_CALLBACK,
    Pkce,
    authorize_url,
    consent,
    consent_fields,
    exchange,
    get_code,
    jwks,
    redirect_params,
    verify,
)

pytestmark = pytest.mark.django_db


def test_full_flow_issues_an_id_token_that_verifies_against_the_jwks(public_client, user, password):
    http = HttpClient()
    pkce = Pkce.new()
    url = authorize_url(public_client.client_id, pkce, state="s-123", nonce="n-456")

    # Anonymous: the authorization server asks the user to sign in first.
    response = http.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/?next=")

    response = http.post(response["Location"], {"username": user.email, "password": password})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == url

    response = consent(http, url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(MOBILE_CALLBACK + "?")
    params = redirect_params(response)
    assert params["state"] == "s-123"
    assert params["iss"] == ISSUER

    response = exchange(http, public_client.client_id, params["code"], pkce.verifier)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == {"openid", "profile", "email"}

    claims = verify(body["id_token"], jwks(http), iss=ISSUER, aud=public_client.client_id, nonce="n-456")
    assert claims["sub"] == str(user.sub)
    assert claims["exp"] > time.time()
    assert claims["email"] == user.email
    assert claims["name"] == "Alice Anders"

    # /userinfo tells the same story as the ID token: both come from one place.
    userinfo = http.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert userinfo.status_code == HTTPStatus.OK
    info = userinfo.json()
    for name in ("sub", "email", "email_verified", "name", "nickname", "picture", "updated_at"):
        assert info[name] == claims[name]


def test_id_token_carries_only_the_claims_of_the_granted_scopes(public_client, user_client):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope="openid email")
    body = exchange(user_client, public_client.client_id, code, pkce.verifier).json()
    claims = verify(body["id_token"], jwks(user_client))
    assert claims["email"] == "alice@abcinc.example"
    assert "name" not in claims
    assert "picture" not in claims


def test_loopback_callback_accepts_any_port(public_client, user_client):
    pkce = Pkce.new()
    callback = "http://127.0.0.1:51234/callback"
    response = consent(user_client, authorize_url(public_client.client_id, pkce, redirect_uri=callback))
    assert response["Location"].startswith(callback + "?")
    code = redirect_params(response)["code"]
    token = exchange(user_client, public_client.client_id, code, pkce.verifier, redirect_uri=callback)
    assert token.status_code == HTTPStatus.OK


def test_denying_consent_redirects_with_access_denied_and_issuer(public_client, user_client):
    url = authorize_url(public_client.client_id, Pkce.new(), state="deny-me")
    response = user_client.post("/authorize", consent_fields(user_client.get(url)))  # no "allow"
    params = redirect_params(response)
    assert params == {"error": "access_denied", "state": "deny-me", "iss": ISSUER} | (
        {"error_description": params["error_description"]} if "error_description" in params else {}
    )
    assert "code" not in params


# --- Refusals -------------------------------------------------------------------------------


def test_wrong_code_verifier_is_invalid_grant(public_client, user_client):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce)
    response = exchange(user_client, public_client.client_id, code, Pkce.new().verifier)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_grant"
    assert "access_token" not in response.json()


def test_missing_code_verifier_is_refused(public_client, user_client):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce)
    response = exchange(user_client, public_client.client_id, code, verifier=None)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] in {"invalid_request", "invalid_grant"}
    assert "access_token" not in response.json()


@pytest.mark.parametrize(
    ("pkce_params", "description"),
    [
        pytest.param({}, "required", id="no-challenge"),
        pytest.param({"code_challenge_method": "plain"}, "S256", id="plain-method"),
        pytest.param({"code_challenge_method": None}, "S256", id="method-omitted-means-plain"),
        pytest.param({"code_challenge": "abc"}, "43-128", id="too-short"),
        pytest.param({"code_challenge": "a" * 129}, "43-128", id="too-long"),
        pytest.param({"code_challenge": "a" * 42 + "!"}, "43-128", id="bad-characters"),
    ],
)
def test_bad_pkce_at_authorize_is_invalid_request_to_the_client(
    public_client, user_client, pkce_params, description
):
    pkce = Pkce.new()
    base = {"code_challenge": pkce.challenge, "code_challenge_method": "S256"}
    if pkce_params == {}:
        base = {}
    url = authorize_url(public_client.client_id, None, state="st", **(base | pkce_params))
    response = user_client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    params = redirect_params(response)
    assert params["error"] == "invalid_request"
    assert description.lower() in params["error_description"].lower()
    assert params["state"] == "st"
    assert params["iss"] == ISSUER
    assert "code" not in params


def test_a_code_can_be_redeemed_once(public_client, user_client):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce)
    assert exchange(user_client, public_client.client_id, code, pkce.verifier).status_code == HTTPStatus.OK
    replay = exchange(user_client, public_client.client_id, code, pkce.verifier)
    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["error"] == "invalid_grant"


def test_a_code_is_bound_to_its_redirect_uri(public_client, user_client):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce)
    response = exchange(
        user_client, public_client.client_id, code, pkce.verifier, redirect_uri=LOOPBACK_CALLBACK
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] in {"invalid_grant", "invalid_request"}


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        MOBILE_CALLBACK + "/extra",
        MOBILE_CALLBACK + "?x=1",
        MOBILE_CALLBACK + "#frag",
        "com.abcinc.timesheets.evil://callback",
        "http://localhost/callback",
        "http://127.0.0.1/callback/../admin",
        "http://127.0.0.1/Callback",
        "javascript:alert(1)",
    ],
)
def test_unregistered_redirect_uri_is_an_error_page_never_a_redirect(
    public_client, user_client, redirect_uri
):
    response = user_client.get(authorize_url(public_client.client_id, Pkce.new(), redirect_uri=redirect_uri))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response
    assert b"invalid_request" in response.content or b"mismatching_redirect_uri" in response.content


def test_unknown_client_is_an_error_page_never_a_redirect(user_client):
    response = user_client.get(authorize_url("no-such-client", Pkce.new()))
    assert response.status_code in {HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED}
    assert "Location" not in response


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "code token", "none"])
def test_only_the_code_response_type_is_served(public_client, user_client, response_type):
    pkce = Pkce.new()
    response = user_client.get(authorize_url(public_client.client_id, pkce, response_type=response_type))
    assert response.status_code == HTTPStatus.FOUND
    location = response["Location"]
    params = redirect_params(response)
    assert params["error"] == "unsupported_response_type"
    assert params["iss"] == ISSUER
    for leaked in ("code=", "access_token", "id_token="):
        assert leaked not in location
