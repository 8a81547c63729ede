"""The resource-server classes refuse every token they should, with RFC 6750 errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from http import HTTPStatus
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.test import Client as HttpClient

from accounts import caching
from apis import tokens
from apis.keys import LEEWAY_SECONDS, signing_key_current
from apis.revocation import revoke_grant
from apis.services import api_secret_rotate, api_update
from apis.tokens import InvalidToken, _private_key, verify_access_token
from clients.services import client_grant_set
from tests.oauth import ISSUER, TIMESHEETS_API, Pkce, client_credentials, exchange, get_code

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]
URL = "/test-api/"


def _claims(**overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": str(uuid.uuid4()),
        "aud": TIMESHEETS_API,
        "client_id": "test-mobile",
        "scope": "read:timesheets",
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    return {**claims, **overrides}


def _rs256(claims: dict | None = None, **headers) -> str:
    key = signing_key_current()
    header = {"typ": "at+jwt", "kid": key.kid, **headers}
    return jwt.encode(claims or _claims(), _private_key(key), algorithm="RS256", headers=header)


def _get(token: str | None, **extra):
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return HttpClient().get(URL, **headers, **extra)


def _assert_invalid_token(response) -> None:
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="abc-identity"')
    assert 'error="invalid_token"' in challenge


@pytest.fixture
def user_token(timesheets_api, public_client, user_client) -> str:
    pkce = Pkce.new()
    code = get_code(
        user_client, public_client.client_id, pkce, scope="openid read:timesheets", audience=TIMESHEETS_API
    )
    return exchange(user_client, public_client.client_id, code, pkce.verifier).json()


def test_a_real_user_token_is_accepted(user_token, user):
    response = _get(user_token["access_token"])
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"sub": str(user.sub), "client_id": "test-mobile", "machine": False}


def test_the_scheme_is_case_insensitive(user_token):
    response = HttpClient().get(URL, HTTP_AUTHORIZATION=f"bEaReR {user_token['access_token']}")
    assert response.status_code == HTTPStatus.OK


def test_a_machine_token_is_not_a_user(confidential_client, timesheets_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    token = client_credentials(client.client_id, secret, audience=TIMESHEETS_API, scope="read:timesheets")
    body = _get(token.json()["access_token"]).json()
    assert body["machine"] is True
    assert body["sub"] == "test-batch@clients"


def test_no_token_is_401_without_an_error_code(timesheets_api):
    response = _get(None)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="abc-identity"'


def test_missing_scope_is_403_insufficient_scope(user_token):
    response = HttpClient().post(URL, HTTP_AUTHORIZATION=f"Bearer {user_token['access_token']}")
    assert response.status_code == HTTPStatus.FORBIDDEN
    challenge = response["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="create:timesheets read:timesheets"' in challenge


@pytest.mark.parametrize("place", ["query", "form"], ids=["token-in-query", "token-in-form-body"])
def test_tokens_outside_the_authorization_header_are_ignored(user_token, place):
    token = user_token["access_token"]
    if place == "query":
        response = HttpClient().get(f"{URL}?access_token={token}")
    else:
        response = HttpClient().post(URL, {"access_token": token})
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_garbage_is_invalid_token(timesheets_api):
    _assert_invalid_token(_get("not-a-jwt"))
    _assert_invalid_token(HttpClient().get(URL, HTTP_AUTHORIZATION="Bearer a b"))


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param(_claims(exp=int(time.time()) - 120), id="expired"),
        pytest.param(_claims(nbf=int(time.time()) + 600), id="not-yet-valid"),
        pytest.param(_claims(aud="https://other.example/api"), id="wrong-audience"),
        pytest.param(_claims(iss="https://evil.example"), id="wrong-issuer"),
        pytest.param({k: v for k, v in _claims().items() if k != "exp"}, id="no-exp"),
        pytest.param({k: v for k, v in _claims().items() if k != "client_id"}, id="no-client-id"),
    ],
)
def test_bad_claims_are_refused(timesheets_api, claims):
    _assert_invalid_token(_get(_rs256(claims)))


def test_a_token_expired_within_the_leeway_is_still_accepted(timesheets_api):
    assert _get(_rs256(_claims(exp=int(time.time()) - 10))).status_code == HTTPStatus.OK


def test_alg_none_is_refused(timesheets_api):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "at+jwt"}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(_claims()).encode()).rstrip(b"=")
    _assert_invalid_token(_get(f"{header.decode()}.{payload.decode()}."))


@pytest.mark.parametrize("encoding", ["pem", "der-b64", "jwk-n"])
def test_the_rsa_public_key_used_as_an_hmac_secret_is_refused(timesheets_api, encoding):
    key = signing_key_current()
    public = _private_key(key).public_key()
    secrets = {
        "pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "der-b64": base64.b64encode(
            public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        ),
        "jwk-n": json.dumps(
            json.loads(HttpClient().get("/.well-known/jwks.json").content)["keys"][0]
        ).encode(),
    }
    header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
    signing_input = (
        base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=")
        + b"."
        + base64.urlsafe_b64encode(json.dumps(_claims()).encode()).rstrip(b"=")
    )
    signature = base64.urlsafe_b64encode(
        hmac.new(secrets[encoding], signing_input, hashlib.sha256).digest()
    ).rstrip(b"=")
    _assert_invalid_token(_get((signing_input + b"." + signature).decode()))


def test_an_rs256_token_for_an_hs256_api_is_refused(timesheets_api):
    api_update(api=timesheets_api, signing_algorithm="HS256")
    _assert_invalid_token(_get(_rs256()))


def test_an_unknown_kid_is_refused(timesheets_api):
    _assert_invalid_token(_get(_rs256(kid="someone-elses-key")))


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "https://evil.example/jwks.json"},
        {"x5u": "https://evil.example/cert.pem"},
        {"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},
    ],
)
def test_key_location_headers_are_refused(timesheets_api, header):
    _assert_invalid_token(_get(_rs256(**header)))


def test_an_id_token_is_not_an_access_token(user_token):
    id_token = user_token["id_token"]
    assert jwt.get_unverified_header(id_token)["typ"] == "JWT"
    _assert_invalid_token(_get(id_token))


def test_a_token_signed_with_a_client_secret_is_refused(confidential_client, timesheets_api):
    _, secret = confidential_client
    forged = jwt.encode(_claims(), secret, algorithm="HS256", headers={"typ": "at+jwt"})
    _assert_invalid_token(_get(forged))


def test_hs256_tokens_stop_working_when_the_secret_rotates(hs256_api, confidential_client):
    client, secret = confidential_client
    client_grant_set(client=client, api=hs256_api, scopes=["read:reports"])
    token = client_credentials(client.client_id, secret, audience=hs256_api.identifier).json()["access_token"]
    assert verify_access_token(token, audience=hs256_api.identifier)["sub"] == "test-batch@clients"
    api_secret_rotate(api=hs256_api)  # seen at once: the write changes the version
    with pytest.raises(InvalidToken):
        verify_access_token(token, audience=hs256_api.identifier)


def test_oversized_tokens_are_refused_early(timesheets_api):
    _assert_invalid_token(_get("a" * 20_000))


def test_authenticating_makes_no_database_query(user_token, django_assert_num_queries):
    token = user_token["access_token"]
    assert _get(token).status_code == HTTPStatus.OK  # warms the key and API caches
    with django_assert_num_queries(0):
        assert _get(token).status_code == HTTPStatus.OK


def test_verified_tokens_are_cached_but_revocation_still_applies(user_token, monkeypatch):
    token = user_token["access_token"]
    claims = verify_access_token(token, audience=TIMESHEETS_API)

    def no_more_signature_checks(*args, **kwargs):
        raise AssertionError("the signature was checked again")

    monkeypatch.setattr(tokens.jwt, "decode", no_more_signature_checks)
    assert verify_access_token(token, audience=TIMESHEETS_API)["jti"] == claims["jti"]

    revoke_grant(claims["gid"])
    with pytest.raises(InvalidToken, match="revoked"):
        verify_access_token(token, audience=TIMESHEETS_API)


def test_the_cache_never_outlives_the_token(user_token, monkeypatch):
    token = user_token["access_token"]
    claims = verify_access_token(token, audience=TIMESHEETS_API)

    def no_more_signature_checks(*args, **kwargs):
        raise AssertionError("the signature was checked again")

    with monkeypatch.context() as patched:
        patched.setattr(tokens.jwt, "decode", no_more_signature_checks)
        assert verify_access_token(token, audience=TIMESHEETS_API)["jti"] == claims["jti"]  # cached

    # Move the process's clock past the token's expiry (plus leeway) instead of waiting.
    later = time.monotonic() + (claims["exp"] - time.time()) + LEEWAY_SECONDS + 1
    monkeypatch.setattr(caching.time, "monotonic", lambda: later)
    monkeypatch.setattr(tokens.jwt, "decode", no_more_signature_checks)
    with pytest.raises(AssertionError, match="checked again"):
        verify_access_token(token, audience=TIMESHEETS_API)


def test_a_non_ascii_authorization_header_is_invalid_token(timesheets_api):
    _assert_invalid_token(HttpClient().get(URL, HTTP_AUTHORIZATION="Bearer Ā"))
