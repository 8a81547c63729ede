"""Catalogue: PKCE.

Public clients must send an S256 challenge of 43-128 unreserved characters; a code is
redeemed only with the verifier of its challenge, and a code issued without a challenge
is never redeemed with one. See also tests/authz/test_authorization_code_flow.py.
"""

from __future__ import annotations

import base64
import hashlib
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from tests.oauth import ISSUER, MOBILE_CALLBACK, Pkce, authorize_url, consent, exchange, get_code

from .helpers import assert_token_error, query_lists, web_code, web_exchange

pytestmark = pytest.mark.django_db
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _authorize(client_id: str, **pkce: str | None) -> str:
    return authorize_url(client_id, None, state="pk", **pkce)


def _assert_refused_to_the_client(response, error: str = "invalid_request") -> None:
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(MOBILE_CALLBACK + "?")
    params = query_lists(response)
    assert params["error"] == [error]
    assert params["state"] == ["pk"]
    assert params["iss"] == [ISSUER]
    assert "code" not in params


def _no_tokens_issued() -> None:
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.exists()


# --- At /authorize ------------------------------------------------------------------------------


def test_a_public_client_without_a_challenge_is_invalid_request_with_state_and_iss(
    public_client, user_client
):
    _assert_refused_to_the_client(user_client.get(_authorize(public_client.client_id)))


def test_a_method_without_a_challenge_is_refused(public_client, user_client):
    response = user_client.get(_authorize(public_client.client_id, code_challenge_method="S256"))
    _assert_refused_to_the_client(response)


@pytest.mark.parametrize(
    "method",
    [
        pytest.param("plain", id="plain"),
        pytest.param(None, id="no-method-means-plain"),
        pytest.param("s256", id="lowercase"),
        pytest.param("S512", id="unknown"),
        pytest.param("", id="empty"),
    ],
)
def test_only_s256_is_accepted(public_client, user_client, method):
    challenge = Pkce.new().challenge
    response = user_client.get(
        _authorize(public_client.client_id, code_challenge=challenge, code_challenge_method=method)
    )
    _assert_refused_to_the_client(response)


@pytest.mark.parametrize(
    "challenge",
    [
        pytest.param("abc", id="abc"),
        pytest.param("a" * 42, id="42-characters"),
        pytest.param("a" * 129, id="129-characters"),
        pytest.param("a" * 42 + "+", id="plus"),
        pytest.param("a" * 42 + "/", id="slash"),
        pytest.param("a" * 42 + "=", id="padding"),
        pytest.param("a" * 42 + " ", id="space"),
        pytest.param("a" * 42 + "%", id="percent"),
        pytest.param("a" * 42 + "é", id="non-ascii"),
        pytest.param("a" * 42 + "\n", id="newline"),
    ],
)
def test_a_malformed_challenge_is_refused(public_client, user_client, challenge):
    response = user_client.get(
        _authorize(public_client.client_id, code_challenge=challenge, code_challenge_method="S256")
    )
    _assert_refused_to_the_client(response)


@pytest.mark.parametrize("length", [43, 128])
def test_challenges_at_the_length_limits_work(public_client, user_client, length):
    challenge = ("A-._~" * 30)[:length]
    response = consent(
        user_client,
        _authorize(public_client.client_id, code_challenge=challenge, code_challenge_method="S256"),
    )
    assert query_lists(response)["code"]


# --- At /oauth/token ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "verifier",
    [
        pytest.param(Pkce.new().verifier, id="another-verifier"),
        pytest.param("challenge", id="the-challenge-itself"),
        pytest.param("a" * 43, id="well-formed-guess"),
        pytest.param("", id="empty"),
    ],
)
def test_a_wrong_code_verifier_is_invalid_grant_and_issues_nothing(public_client, user_client, verifier):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce)
    if verifier == "challenge":
        verifier = pkce.challenge
    assert_token_error(exchange(user_client, public_client.client_id, code, verifier), "invalid_grant")
    _no_tokens_issued()


def test_a_missing_code_verifier_is_invalid_grant_and_issues_nothing(public_client, user_client):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce)
    assert_token_error(exchange(user_client, public_client.client_id, code, None), "invalid_grant")
    _no_tokens_issued()


def test_a_missing_code_verifier_is_refused_and_issues_nothing(public_client, user_client):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce)
    response = exchange(user_client, public_client.client_id, code, None)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not {"access_token", "refresh_token", "id_token"} & set(response.json())
    _no_tokens_issued()


def test_a_confidential_client_that_sent_a_challenge_needs_the_verifier(web_client, user_client):
    client, secret = web_client
    pkce = Pkce.new()
    code = web_code(user_client, client.client_id, pkce)
    response = web_exchange(client.client_id, secret, code)  # secret, but no verifier
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not {"access_token", "refresh_token", "id_token"} & set(response.json())
    _no_tokens_issued()
    wrong = web_exchange(
        client.client_id, secret, web_code(user_client, client.client_id, pkce), code_verifier="x" * 43
    )
    assert_token_error(wrong, "invalid_grant")


def test_a_confidential_client_redeems_its_challenge_with_the_verifier(web_client, user_client):
    client, secret = web_client
    pkce = Pkce.new()
    code = web_code(user_client, client.client_id, pkce)
    response = web_exchange(client.client_id, secret, code, code_verifier=pkce.verifier)
    assert response.status_code == HTTPStatus.OK, response.content


def test_downgrade_a_code_without_challenge_redeemed_with_a_verifier_is_refused(web_client, user_client):
    client, secret = web_client
    code = web_code(user_client, client.client_id)  # a confidential client may skip PKCE
    response = web_exchange(client.client_id, secret, code, code_verifier=Pkce.new().verifier)
    assert_token_error(response, "invalid_grant")
    _no_tokens_issued()


def test_a_confidential_client_without_pkce_redeems_without_a_verifier(web_client, user_client):
    client, secret = web_client
    code = web_code(user_client, client.client_id)
    assert web_exchange(client.client_id, secret, code).status_code == HTTPStatus.OK


def test_a_public_client_cannot_redeem_someone_elses_code_with_its_own_verifier(public_client, user_client):
    victim = Pkce.new()
    code = get_code(user_client, public_client.client_id, victim)
    attacker = Pkce.new()
    response = HttpClient().post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": MOBILE_CALLBACK,
            "client_id": public_client.client_id,
            "code_verifier": attacker.verifier,
        },
    )
    assert_token_error(response, "invalid_grant")
    _no_tokens_issued()
