"""Catalogue: DPoP-bound tokens at the resource servers (the APIs and /userinfo), RFC 9449 §7.

A bound token is accepted only under the DPoP scheme, with one fresh proof of its key for
this very request (method, URL under the issuer, ``ath`` of the token); presented as
Bearer or with another key it is refused with a DPoP challenge. An unbound token under the
DPoP scheme is refused too (§4.3 check 12 confirms the proof against the key the token is
bound to, and it has none); as Bearer it works as ever.
"""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest

from tests.oauth import ISSUER, TIMESHEETS_API, Pkce, get_code

from .dpop import DpopKey, code_exchange, resource_get
from .helpers import SCOPE, TEST_API, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]
API_URL = f"{ISSUER}{TEST_API}"
USERINFO = "/userinfo"
USERINFO_URL = f"{ISSUER}{USERINFO}"
ALGS = 'algs="ES256 EdDSA Ed25519 RS256"'


@pytest.fixture
def key() -> DpopKey:
    return DpopKey.new()


@pytest.fixture
def token(public_client, user_client, timesheets_api, key) -> str:
    """An access token for the API and /userinfo, bound to ``key``."""
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API)
    response = code_exchange(public_client.client_id, code, pkce.verifier, key.proof())
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["access_token"]


def _refused(response, error: str) -> None:
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("DPoP "), challenge
    assert f'error="{error}"' in challenge, challenge
    assert ALGS in challenge


ENDPOINTS = [(TEST_API, API_URL), (USERINFO, USERINFO_URL)]


@pytest.mark.parametrize(("path", "url"), ENDPOINTS)
def test_a_bound_token_with_a_proof_of_its_key_is_accepted(token, key, path, url):
    proof = key.proof(htm="GET", htu=url, access_token=token)
    response = resource_get(path, f"DPoP {token}", proof)
    assert response.status_code == HTTPStatus.OK, response.content


@pytest.mark.parametrize(("path", "url"), ENDPOINTS)
def test_a_bound_token_presented_as_bearer_is_refused(token, key, path, url):
    proof = key.proof(htm="GET", htu=url, access_token=token)
    _refused(resource_get(path, f"Bearer {token}", proof), "invalid_token")
    _refused(resource_get(path, f"Bearer {token}"), "invalid_token")


@pytest.mark.parametrize(("path", "url"), ENDPOINTS)
def test_a_proof_of_another_key_is_refused(token, path, url):
    thief = DpopKey.new()
    _refused(
        resource_get(path, f"DPoP {token}", thief.proof(htm="GET", htu=url, access_token=token)),
        "invalid_token",
    )


def _proofs(key: DpopKey, token: str, url: str) -> dict:
    return {
        "no proof": None,
        "no ath": key.proof(htm="GET", htu=url),
        "wrong ath": key.proof(htm="GET", htu=url, access_token=token + "x"),
        "wrong htm": key.proof(htm="POST", htu=url, access_token=token),
        "wrong htu": key.proof(htm="GET", htu=f"{ISSUER}/other/", access_token=token),
        "stale iat": key.proof(htm="GET", htu=url, access_token=token, iat=int(time.time()) - 300),
        "wrong typ": key.proof(htm="GET", htu=url, access_token=token, header={"typ": "JWT"}),
        "two proofs": f"{key.proof(htm='GET', htu=url, access_token=token)}, {key.proof(htm='GET', htu=url)}",
    }


@pytest.mark.parametrize(("path", "url"), ENDPOINTS)
@pytest.mark.parametrize(
    "case",
    ["no proof", "no ath", "wrong ath", "wrong htm", "wrong htu", "stale iat", "wrong typ", "two proofs"],
)
def test_a_bad_proof_at_the_resource_server_is_invalid_dpop_proof(token, key, path, url, case):
    _refused(resource_get(path, f"DPoP {token}", _proofs(key, token, url)[case]), "invalid_dpop_proof")


def test_a_replayed_proof_is_refused_at_the_api(token, key):
    proof = key.proof(htm="GET", htu=API_URL, access_token=token)
    assert resource_get(TEST_API, f"DPoP {token}", proof).status_code == HTTPStatus.OK
    _refused(resource_get(TEST_API, f"DPoP {token}", proof), "invalid_dpop_proof")


def test_an_unbound_token_under_the_dpop_scheme_is_refused_and_works_as_bearer(
    public_client, user_client, timesheets_api, key
):
    unbound = sign_in(user_client, public_client.client_id)["access_token"]
    proof = key.proof(htm="GET", htu=API_URL, access_token=unbound)
    _refused(resource_get(TEST_API, f"DPoP {unbound}", proof), "invalid_token")
    assert resource_get(TEST_API, f"Bearer {unbound}", proof).status_code == HTTPStatus.OK


@pytest.mark.parametrize(("path", "url"), ENDPOINTS)
def test_a_resource_server_that_requires_nonces_hands_one_out(token, key, settings, path, url):
    settings.DPOP_NONCE_REQUIRED = True
    first = resource_get(path, f"DPoP {token}", key.proof(htm="GET", htu=url, access_token=token))
    _refused(first, "use_dpop_nonce")
    nonce = first["DPoP-Nonce"]
    second = resource_get(
        path, f"DPoP {token}", key.proof(htm="GET", htu=url, access_token=token, nonce=nonce)
    )
    assert second.status_code == HTTPStatus.OK, second.content
