"""Catalogue: private_key_jwt client authentication (RFC 7523 §2.2, OIDC Core §9).

Every bad assertion is invalid_client (401) with a reason, issues nothing, and counts as a
failed client authentication; a good one works at the token, revocation and introspection
endpoints, once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from http import HTTPStatus

import jwt
import pytest
from django.test import Client as HttpClient
from oauth2_provider.models import AccessToken

from clients.models import Client
from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, Pkce, basic_auth

from .helpers import WEB_CALLBACK, assert_token_error, jwt_parts, web_code
from .pkjwt import TOKEN_ENDPOINT, KeyPair, assertion_params, claims_for, key_client, post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("steady_rate_window")]
CC = {"grant_type": "client_credentials", "audience": TIMESHEETS_API}


@pytest.fixture
def key() -> KeyPair:
    return KeyPair.new("RS256")


@pytest.fixture
def batch(key, timesheets_api) -> Client:
    client, _secret = key_client(Client.AppType.M2M, key)
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    return client


def _token(assertion: str, **extra: str):
    return post("/oauth/token", {**CC, **assertion_params(assertion), **extra})


def _refused(response, reason: str) -> None:
    body = assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)
    assert "access_token" not in body
    assert reason in body["error_description"], body
    assert not AccessToken.objects.exists()


# --- The good path -----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_a_machine_gets_a_token_with_an_assertion(alg, timesheets_api):
    key = KeyPair.new(alg)
    client, _ = key_client(Client.AppType.M2M, key)
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    response = _token(key.sign(claims_for(client.client_id)))
    assert response.status_code == HTTPStatus.OK, response.content
    _header, claims = jwt_parts(response.json()["access_token"])
    assert claims["client_id"] == client.client_id
    assert claims["aud"] == TIMESHEETS_API


def test_the_token_endpoint_url_is_an_audience_too_and_client_id_may_be_sent(batch, key):
    assertion = key.sign(claims_for(batch.client_id, aud=[TOKEN_ENDPOINT]))
    response = _token(assertion, client_id=batch.client_id)
    assert response.status_code == HTTPStatus.OK, response.content


def test_a_regular_web_app_redeems_a_code_with_an_assertion(user_client, timesheets_api):
    key = KeyPair.new("ES256")
    client, _ = key_client(Client.AppType.REGULAR_WEB, key, redirect_uris=[WEB_CALLBACK])
    pkce = Pkce.new()
    code = web_code(
        user_client,
        client.client_id,
        pkce,
        scope="openid offline_access read:timesheets",
        audience=TIMESHEETS_API,
    )
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": WEB_CALLBACK}
    bad = post(
        "/oauth/token",
        {
            **data,
            "code_verifier": pkce.verifier,
            **assertion_params(key.sign(claims_for(client.client_id, aud="x"))),
        },
    )
    _refused(bad, "aud")
    good = post(
        "/oauth/token",
        {**data, "code_verifier": pkce.verifier, **assertion_params(key.sign(claims_for(client.client_id)))},
    )
    assert good.status_code == HTTPStatus.OK, good.content
    assert {"access_token", "id_token", "refresh_token"} <= set(good.json())
    refreshed = post(
        "/oauth/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": good.json()["refresh_token"],
            **assertion_params(key.sign(claims_for(client.client_id))),
        },
    )
    assert refreshed.status_code == HTTPStatus.OK, refreshed.content


def test_revocation_and_introspection_take_an_assertion(batch, key):
    token = _token(key.sign(claims_for(batch.client_id))).json()["access_token"]
    active = post(
        "/oauth/introspect", {"token": token, **assertion_params(key.sign(claims_for(batch.client_id)))}
    )
    assert active.status_code == HTTPStatus.OK, active.content
    assert active.json()["active"] is True
    stale = key.sign(claims_for(batch.client_id, exp=int(time.time()) - 5))
    refused = post("/oauth/introspect", {"token": token, **assertion_params(stale)})
    assert_token_error(refused, "invalid_client", HTTPStatus.UNAUTHORIZED)
    assert "expired" in refused.json()["error_description"]
    revoke = post(
        "/oauth/revoke", {"token": token, **assertion_params(key.sign(claims_for(batch.client_id)))}
    )
    assert revoke.status_code == HTTPStatus.OK, revoke.content
    wrong = post("/oauth/revoke", {"token": token, **assertion_params(stale)})
    assert_token_error(wrong, "invalid_client", HTTPStatus.UNAUTHORIZED)
    inactive = post(
        "/oauth/introspect", {"token": token, **assertion_params(key.sign(claims_for(batch.client_id)))}
    )
    assert inactive.json() == {"active": False}


# --- Bad assertions ----------------------------------------------------------------------------


def test_a_replayed_assertion_is_refused(batch, key):
    assertion = key.sign(claims_for(batch.client_id))
    assert _token(assertion).status_code == HTTPStatus.OK
    _refused(_token(assertion), "already used")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"sub": "someone-else"}, "iss and sub"),
        ({"iss": "someone-else"}, "iss and sub"),
        ({"aud": "https://elsewhere.example"}, "aud"),
        ({"aud": None}, "aud"),
        ({"exp": -30}, "expired"),
        ({"exp": None}, "exp"),
        ({"exp": 3600}, "too long"),
        ({"iat": -3600}, "too long"),
        ({"iat": 600}, "iat"),
        ({"nbf": 600}, "nbf"),
        ({"jti": None}, "jti"),
        ({"jti": "x" * 300}, "jti"),
    ],
)
def test_bad_claims_are_invalid_client(batch, key, overrides, reason):
    """Times are seconds from now."""
    now = int(time.time())
    timed = {
        name: now + value if name in ("exp", "iat", "nbf") and value is not None else value
        for name, value in overrides.items()
    }
    _refused(_token(key.sign(claims_for(batch.client_id, **timed))), reason)


def test_the_wrong_assertion_type_is_refused(batch, key):
    assertion = key.sign(claims_for(batch.client_id))
    _refused(
        _token(assertion, client_assertion_type="urn:ietf:params:oauth:client-assertion-type:saml2-bearer"),
        "client_assertion_type",
    )
    _refused(post("/oauth/token", {**CC, "client_assertion": assertion}), "client_assertion_type")


def test_garbage_and_a_client_id_that_is_not_the_subject_are_refused(batch, key, other_confidential_client):
    _refused(_token("not.a.jwt"), "well-formed")
    other, _ = other_confidential_client
    _refused(_token(key.sign(claims_for(batch.client_id)), client_id=other.client_id), "client_id")


def test_alg_none_is_refused(batch):
    unsigned = jwt.encode(claims_for(batch.client_id), "", algorithm="none")
    _refused(_token(unsigned), "alg")


def test_hs256_with_the_public_key_as_secret_is_refused(batch, key):
    # PyJWT refuses to do this itself: the HMAC is computed by hand, keyed with the public
    # key as the server would hold it (its JWK, and its PEM).
    for secret in (json.dumps(key.public_jwk()).encode(), key.public_pem()):
        header = _b64({"alg": "HS256", "typ": "JWT", "kid": key.kid})
        signing_input = f"{header}.{_b64(claims_for(batch.client_id))}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
        _refused(_token(forged), "alg")


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_an_unknown_kid_is_refused(batch, key):
    _refused(_token(key.sign(claims_for(batch.client_id), kid="no-such-kid")), "kid")


def test_an_unregistered_key_with_the_registered_kid_is_refused(batch, key):
    forger = KeyPair.new("RS256", kid=key.kid)
    _refused(_token(forger.sign(claims_for(batch.client_id))), "signature")


def test_another_clients_key_does_not_sign_for_this_one(batch, timesheets_api):
    other_key = KeyPair.new("RS256")
    other, _ = key_client(Client.AppType.M2M, other_key)
    # Signed by the other client's registered key, in this client's name.
    _refused(_token(other_key.sign(claims_for(batch.client_id), kid=None)), "signature")
    assert other.client_id != batch.client_id


def test_a_client_registered_for_a_secret_cannot_send_an_assertion(confidential_client, timesheets_api):
    client, _secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    key = KeyPair.new()
    client.jwks = key.jwks()
    client.save()
    _refused(_token(key.sign(claims_for(client.client_id))), "client_secret_basic")


def test_an_assertion_and_a_secret_together_are_refused(timesheets_api):
    key = KeyPair.new()
    client, secret = key_client(Client.AppType.M2M, key)
    assert secret is not None
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    _refused(_token(key.sign(claims_for(client.client_id)), client_secret=secret), "one way only")
    basic = basic_auth(client.client_id, secret)
    with_basic = post(
        "/oauth/token",
        {**CC, **assertion_params(key.sign(claims_for(client.client_id)))},
        HTTP_AUTHORIZATION=basic,
    )
    _refused(with_basic, "one way only")


def test_the_secret_of_a_private_key_jwt_client_is_not_accepted(timesheets_api):
    client, secret = key_client(Client.AppType.M2M, KeyPair.new())
    assert secret is not None
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    response = post("/oauth/token", CC, HTTP_AUTHORIZATION=basic_auth(client.client_id, secret))
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)
    response = post("/oauth/token", {**CC, "client_id": client.client_id, "client_secret": secret})
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)


def test_failed_assertions_count_toward_the_clients_failure_limit(batch, key, settings):
    for _ in range(settings.RATE_LIMIT_CLIENT_FAILURES):
        response = _token(key.sign(claims_for(batch.client_id, aud="https://elsewhere.example")))
        assert response.status_code == HTTPStatus.UNAUTHORIZED
    # Now even a good assertion from that address waits: the failures were this client's.
    response = _token(key.sign(claims_for(batch.client_id)))
    assert_token_error(response, "temporarily_unavailable", HTTPStatus.TOO_MANY_REQUESTS)


def test_json_bodies_carry_assertions_too(batch, key):
    body = {**CC, **assertion_params(key.sign(claims_for(batch.client_id)))}
    response = HttpClient().post("/oauth/token", json.dumps(body), content_type="application/json")
    assert response.status_code == HTTPStatus.OK, response.content


def test_discovery_advertises_private_key_jwt_and_its_algorithms_only():
    discovery = HttpClient().get("/.well-known/openid-configuration").json()
    assert "private_key_jwt" in discovery["token_endpoint_auth_methods_supported"]
    assert "client_secret_jwt" not in discovery["token_endpoint_auth_methods_supported"]
    for endpoint in ("token", "revocation", "introspection"):
        algs = discovery[f"{endpoint}_endpoint_auth_signing_alg_values_supported"]
        assert algs == ["RS256", "PS256", "ES256", "EdDSA"]
