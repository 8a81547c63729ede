"""Catalogue: DPoP (RFC 9449), sender-constrained tokens.

Every malformed proof is refused with its error and no token; a bound access token works
only under the DPoP scheme with a fresh proof of its key (at the APIs and /userinfo); a
public client's refresh token only with a proof of the key it was bound to; an application
that requires DPoP gets nothing without a proof. Server nonces are stateless and shared.
"""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from apis.dpop import jwk_thumbprint, nonce_new
from authz.models import GrantFamily
from clients.services import client_grant_set
from tests.oauth import ISSUER, MOBILE_CALLBACK, TIMESHEETS_API, Pkce, basic_auth, get_code

from .dpop import DpopKey, code_exchange, resource_get, token_request
from .helpers import SCOPE, TEST_API, assert_token_error, jwt_parts

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]
API_URL = f"{ISSUER}{TEST_API}"
USERINFO_URL = f"{ISSUER}/userinfo"


@pytest.fixture
def code(public_client, user_client, timesheets_api) -> tuple[str, Pkce]:
    pkce = Pkce.new()
    return get_code(user_client, public_client.client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API), pkce


@pytest.fixture
def key() -> DpopKey:
    return DpopKey.new()


@pytest.fixture
def bound(public_client, code, key) -> dict:
    """The tokens of a code exchanged with a DPoP proof of ``key``."""
    response = code_exchange(public_client.client_id, code[0], code[1].verifier, key.proof())
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _refresh(client_id: str, refresh_token: str, proof: str | None):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return token_request(data, proof)


# --- The token endpoint: a valid proof binds the tokens -------------------------------------------


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA", "RS256"])
def test_a_code_exchanged_with_a_proof_gives_a_dpop_bound_token(public_client, code, algorithm):
    key = DpopKey.new(algorithm)
    response = code_exchange(public_client.client_id, code[0], code[1].verifier, key.proof())
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert body["token_type"] == "DPoP"
    _header, claims = jwt_parts(body["access_token"])
    assert claims["cnf"] == {"jkt": key.thumbprint}
    assert GrantFamily.objects.get().dpop_jkt == key.thumbprint


def test_without_a_proof_the_token_stays_a_bearer_token(public_client, code):
    response = code_exchange(public_client.client_id, code[0], code[1].verifier, None)
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert "cnf" not in jwt_parts(body["access_token"])[1]
    assert GrantFamily.objects.get().dpop_jkt == ""


def test_the_thumbprint_is_rfc_7638s():
    # RFC 7638 §3.1's example key and its thumbprint.
    key = {
        "kty": "RSA",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
        "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
        "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2Nc"
        "Rwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    }
    assert jwk_thumbprint(key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# --- Malformed proofs: invalid_dpop_proof, no token, the code still unused ------------------------


def _hs256_proof(key: DpopKey) -> str:
    import jwt

    claims = {"jti": "x", "htm": "POST", "htu": f"{ISSUER}/oauth/token", "iat": int(time.time())}
    return jwt.encode(claims, "a" * 32, algorithm="HS256", headers={"typ": "dpop+jwt", "jwk": key.public_jwk})


def _unsigned_proof(key: DpopKey) -> str:
    import jwt

    claims = {"jti": "x", "htm": "POST", "htu": f"{ISSUER}/oauth/token", "iat": int(time.time())}
    return jwt.encode(claims, "", algorithm="none", headers={"typ": "dpop+jwt", "jwk": key.public_jwk})


def _bad_signature(key: DpopKey) -> str:
    header, claims, _signature = key.proof().split(".")
    other = DpopKey.new().proof().split(".")[2]
    return f"{header}.{claims}.{other}"


MALFORMED = {
    "wrong typ": lambda key: key.proof(header={"typ": "JWT"}),
    "no typ": lambda key: key.proof(header={"typ": None}),
    "alg none": _unsigned_proof,
    "HS256": _hs256_proof,
    "private key in jwk": lambda key: key.proof(header={"jwk": key.private_jwk}),
    "no jwk": lambda key: key.proof(header={"jwk": None}),
    "jwk of another type": lambda key: key.proof(header={"jwk": DpopKey.new("RS256").public_jwk}),
    "bad signature": _bad_signature,
    "signed by another key": lambda key: DpopKey.new().proof(header={"jwk": key.public_jwk}),
    "wrong htm": lambda key: key.proof(htm="GET"),
    "wrong htu": lambda key: key.proof(htu="https://evil.example/oauth/token"),
    "htu of another endpoint": lambda key: key.proof(htu=f"{ISSUER}/oauth/revoke"),
    "stale iat": lambda key: key.proof(iat=int(time.time()) - 120),
    "future iat": lambda key: key.proof(iat=int(time.time()) + 60),
    "no jti": lambda key: key.proof(jti=None),
    "no iat": lambda key: key.proof(iat=None),
    "not a JWT": lambda key: "not-a-jwt",
}


@pytest.mark.parametrize("make", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_proof_is_refused_and_the_code_is_not_spent(public_client, code, key, make):
    response = code_exchange(public_client.client_id, code[0], code[1].verifier, make(key))
    assert_token_error(response, "invalid_dpop_proof")
    # Refused before the code was looked at: the client may still redeem it properly.
    retry = code_exchange(public_client.client_id, code[0], code[1].verifier, key.proof())
    assert retry.status_code == HTTPStatus.OK, retry.content


def test_the_htu_ignores_query_and_case_of_scheme_and_host(public_client, code, key):
    proof = key.proof(htu="HTTP://TESTSERVER:80/oauth/token?x=1#y")
    response = code_exchange(public_client.client_id, code[0], code[1].verifier, proof)
    assert response.status_code == HTTPStatus.OK, response.content


def test_the_htu_is_the_issuers_url_not_the_host_header(public_client, code, key):
    """A proof for the address the request came in on is not one for the issuer's endpoint."""
    data = {
        "grant_type": "authorization_code",
        "code": code[0],
        "redirect_uri": MOBILE_CALLBACK,
        "client_id": public_client.client_id,
        "code_verifier": code[1].verifier,
    }
    proof = key.proof(htu="http://localhost/oauth/token")
    response = HttpClient().post("/oauth/token", data, HTTP_DPOP=proof, HTTP_HOST="localhost")
    assert_token_error(response, "invalid_dpop_proof")


def test_a_replayed_proof_is_refused(public_client, code, key, user_client):
    proof = key.proof()
    assert code_exchange(public_client.client_id, code[0], code[1].verifier, proof).status_code == 200
    pkce = Pkce.new()
    second = get_code(user_client, public_client.client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API)
    body = assert_token_error(
        code_exchange(public_client.client_id, second, pkce.verifier, proof), "invalid_dpop_proof"
    )
    assert "used before" in body["error_description"]


def test_two_dpop_headers_are_refused(public_client, code, key):
    proofs = f"{key.proof()}, {key.proof()}"
    response = code_exchange(public_client.client_id, code[0], code[1].verifier, proofs)
    assert_token_error(response, "invalid_dpop_proof")


# --- Server nonces ------------------------------------------------------------------------------


def test_when_nonces_are_required_the_client_is_given_one_and_then_succeeds(
    public_client, code, key, settings
):
    settings.DPOP_NONCE_REQUIRED = True
    first = code_exchange(public_client.client_id, code[0], code[1].verifier, key.proof())
    assert_token_error(first, "use_dpop_nonce")
    nonce = first["DPoP-Nonce"]
    assert nonce
    second = code_exchange(public_client.client_id, code[0], code[1].verifier, key.proof(nonce=nonce))
    assert second.status_code == HTTPStatus.OK, second.content
    assert second["DPoP-Nonce"]


def test_a_nonce_that_is_not_ours_or_expired_asks_for_a_new_one(public_client, code, key, settings):
    forged = code_exchange(public_client.client_id, code[0], code[1].verifier, key.proof(nonce="0.forged"))
    assert_token_error(forged, "use_dpop_nonce")
    settings.DPOP_NONCE_SECONDS = 1
    old = nonce_new()
    time.sleep(2.1)
    expired = code_exchange(public_client.client_id, code[0], code[1].verifier, key.proof(nonce=old))
    assert_token_error(expired, "use_dpop_nonce")
    assert expired["DPoP-Nonce"] != old


# --- Refresh: a public client's refresh token is bound to the key --------------------------------


def test_a_refresh_with_the_same_key_gets_bound_tokens(public_client, bound, key):
    response = _refresh(public_client.client_id, bound["refresh_token"], key.proof())
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert body["token_type"] == "DPoP"
    assert jwt_parts(body["access_token"])[1]["cnf"] == {"jkt": key.thumbprint}
    again = _refresh(public_client.client_id, body["refresh_token"], key.proof())
    assert again.status_code == HTTPStatus.OK, again.content


def test_a_refresh_with_another_key_or_none_is_refused_and_the_token_still_works(public_client, bound, key):
    assert_token_error(
        _refresh(public_client.client_id, bound["refresh_token"], DpopKey.new().proof()), "invalid_grant"
    )
    assert_token_error(_refresh(public_client.client_id, bound["refresh_token"], None), "invalid_grant")
    # The thief's attempts did not burn the holder's token.
    assert _refresh(public_client.client_id, bound["refresh_token"], key.proof()).status_code == HTTPStatus.OK


# --- Applications that require DPoP --------------------------------------------------------------


def test_an_application_that_requires_dpop_gets_no_token_without_a_proof(public_client, code, key):
    public_client.require_dpop = True
    public_client.save()
    refused = code_exchange(public_client.client_id, code[0], code[1].verifier, None)
    assert_token_error(refused, "invalid_dpop_proof")
    accepted = code_exchange(public_client.client_id, code[0], code[1].verifier, key.proof())
    assert accepted.status_code == HTTPStatus.OK, accepted.content


@pytest.fixture
def machine(confidential_client, timesheets_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    return client, secret


def _client_credentials(client_id: str, secret: str, proof: str | None):
    data = {"grant_type": "client_credentials", "audience": TIMESHEETS_API}
    return token_request(data, proof, authorization=basic_auth(client_id, secret))


def test_client_credentials_with_a_proof_gives_a_bound_token_the_api_accepts(machine, key):
    client, secret = machine
    response = _client_credentials(client.client_id, secret, key.proof())
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert body["token_type"] == "DPoP"
    token = body["access_token"]
    assert jwt_parts(token)[1]["cnf"] == {"jkt": key.thumbprint}
    proof = key.proof(htm="GET", htu=API_URL, access_token=token)
    assert resource_get(TEST_API, f"DPoP {token}", proof).status_code == HTTPStatus.OK


def test_a_machine_client_that_requires_dpop_is_refused_without_a_proof(machine, key):
    client, secret = machine
    client.require_dpop = True
    client.save()
    assert_token_error(_client_credentials(client.client_id, secret, None), "invalid_dpop_proof")
    assert _client_credentials(client.client_id, secret, key.proof()).json()["token_type"] == "DPoP"


def test_client_credentials_with_a_malformed_proof_is_refused(machine, key):
    client, secret = machine
    assert_token_error(
        _client_credentials(client.client_id, secret, key.proof(htm="GET")), "invalid_dpop_proof"
    )


def test_introspection_says_a_bound_token_is_dpop_and_names_its_key(machine, key):
    client, secret = machine
    token = _client_credentials(client.client_id, secret, key.proof()).json()["access_token"]
    response = HttpClient().post(
        "/oauth/introspect", {"token": token}, headers={"Authorization": basic_auth(client.client_id, secret)}
    )
    answer = response.json()
    assert answer["active"] is True
    assert answer["token_type"] == "DPoP"
    assert answer["cnf"] == {"jkt": key.thumbprint}
