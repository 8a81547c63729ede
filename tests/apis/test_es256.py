"""ES256 APIs: tokens signed with the server's EC P-256 key, verified only as ES256, and the
EC key published in the JWKS and rotated with the RSA key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta
from http import HTTPStatus

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client as HttpClient
from django.utils import timezone
from jwcrypto import jwk

from apis.keys import (
    ES256,
    RS256,
    forget_current_key,
    longest_token_lifetime,
    private_key,
    signing_key_current,
    signing_key_rotate,
)
from apis.models import Api, SigningKey
from apis.services import api_create, api_update
from apis.tokens import ApiSigning, InvalidToken, mint_access_token, verify_access_token
from clients.services import client_grant_set
from tests.oauth import ISSUER, TIMESHEETS_API, Pkce, client_credentials, exchange, get_code

pytestmark = pytest.mark.django_db
FAST_API = "https://fast.abcinc.example/api"


@pytest.fixture
def es256_api() -> Api:
    return api_create(
        identifier=FAST_API,
        name="Fast API",
        signing_algorithm=Api.Algorithm.ES256,
        scopes={"read:fast": "Read fast things"},
    )


def _claims(audience: str = FAST_API, **overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": str(uuid.uuid4()),
        "aud": audience,
        "client_id": "test-batch",
        "scope": "read:fast",
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    return {**claims, **overrides}


def _sign(algorithm: str, *, kid: str | None = None, key=None, audience: str = FAST_API, **headers) -> str:
    """A token signed with our current ``algorithm`` key (or ``key``), naming ``kid``."""
    ours = signing_key_current(algorithm)
    header = {"typ": "at+jwt", "kid": kid or ours.kid, **headers}
    return jwt.encode(_claims(audience), key or private_key(ours), algorithm=algorithm, headers=header)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwks() -> list[dict]:
    response = HttpClient().get("/.well-known/jwks.json")
    assert response.status_code == HTTPStatus.OK
    return response.json()["keys"]


def _refused(token: str, audience: str = FAST_API) -> None:
    with pytest.raises(InvalidToken):
        verify_access_token(token, audience=audience)


def test_client_credentials_token_for_an_es256_api_round_trips(es256_api, confidential_client):
    client, secret = confidential_client
    client_grant_set(client=client, api=es256_api, scopes=["read:fast"])
    response = client_credentials(client.client_id, secret, audience=FAST_API)
    assert response.status_code == HTTPStatus.OK, response.content
    token = response.json()["access_token"]

    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "typ": "at+jwt", "kid": signing_key_current(ES256).kid}
    claims = verify_access_token(token, audience=FAST_API)
    assert claims["sub"] == "test-batch@clients"
    assert claims["scope"] == "read:fast"
    # Any JWKS consumer verifies it with the published key.
    published = jwt.PyJWKSet.from_dict({"keys": _jwks()})[header["kid"]]
    assert jwt.decode(token, published.key, algorithms=["ES256"], audience=FAST_API, issuer=ISSUER)


def test_an_rs256_token_is_refused_by_an_es256_api(es256_api):
    _refused(_sign(RS256))


def test_an_es256_token_is_refused_by_an_rs256_api(es256_api, timesheets_api):
    _refused(_sign(ES256, audience=TIMESHEETS_API), audience=TIMESHEETS_API)


def test_an_es256_token_naming_an_rsa_kid_is_refused(es256_api):
    # The signature is good, but the kid names an RSA key: never an ES256 key.
    _refused(_sign(ES256, kid=signing_key_current(RS256).kid))


def test_an_rs256_token_naming_an_ec_kid_is_refused_by_an_rs256_api(es256_api, timesheets_api):
    _refused(_sign(RS256, kid=signing_key_current(ES256).kid, audience=TIMESHEETS_API), TIMESHEETS_API)


def test_an_es256_token_signed_with_someone_elses_key_is_refused(es256_api):
    _refused(_sign(ES256, key=ec.generate_private_key(ec.SECP256R1())))
    _refused(_sign(ES256, kid="someone-elses-key", key=ec.generate_private_key(ec.SECP256R1())))


def test_alg_none_is_refused_by_an_es256_api(es256_api):
    header = _b64(
        json.dumps({"alg": "none", "typ": "at+jwt", "kid": signing_key_current(ES256).kid}).encode()
    )
    _refused(f"{header}.{_b64(json.dumps(_claims()).encode())}.")


def test_the_ec_public_key_used_as_an_hmac_secret_is_refused(es256_api):
    key = signing_key_current(ES256)
    pem = (
        private_key(key)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": key.kid}).encode())
    signing_input = f"{header}.{_b64(json.dumps(_claims()).encode())}"
    signature = _b64(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())
    _refused(f"{signing_input}.{signature}")


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "https://evil.example/jwks.json"},
        {"x5u": "https://evil.example/cert.pem"},
        {"jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}},
        {"x5c": ["AA"]},
        {"crit": ["exp"]},
    ],
)
def test_key_location_and_crit_headers_are_refused(es256_api, header):
    _refused(_sign(ES256, **header))


def test_jwks_publishes_the_ec_key_for_jose_style_consumers(es256_api):
    keys = _jwks()
    (published,) = [key for key in keys if key["kty"] == "EC"]
    current = signing_key_current(ES256)
    assert published.keys() == {"kty", "crv", "x", "y", "kid", "use", "alg"}  # no "d"
    assert published | {"x": "", "y": ""} == {
        "kty": "EC",
        "crv": "P-256",
        "x": "",
        "y": "",
        "kid": current.kid,
        "use": "sig",
        "alg": "ES256",
    }
    for coordinate in ("x", "y"):
        value = published[coordinate]
        assert "=" not in value and "+" not in value and "/" not in value  # base64url, no padding
        assert len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))) == 32
    # The kid is the RFC 7638 thumbprint; the coordinates are those of our key.
    assert jwk.JWK(**published).thumbprint() == current.kid
    public = private_key(current).public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    numbers = public.public_numbers()
    assert (numbers.x, numbers.y) == tuple(
        int.from_bytes(base64.urlsafe_b64decode(published[c] + "=" * (-len(published[c]) % 4)), "big")
        for c in ("x", "y")
    )
    assert {key["alg"] for key in keys} == {"RS256", "ES256"}


def test_no_ec_key_is_made_or_published_without_an_es256_api(timesheets_api):
    assert {key["kty"] for key in _jwks()} == {"RSA"}
    signing_key_rotate()
    assert not SigningKey.objects.filter(algorithm=ES256).exists()


def test_rotation_replaces_both_keys_and_old_tokens_keep_verifying(es256_api, timesheets_api):
    old_ec, old_rsa = signing_key_current(ES256), signing_key_current(RS256)
    old_token = mint_access_token(_claims(), signing=ApiSigning.of(es256_api))

    new_rsa = signing_key_rotate()

    new_ec = signing_key_current(ES256)
    assert new_rsa == signing_key_current(RS256)
    assert {new_ec.kid, new_rsa.kid}.isdisjoint({old_ec.kid, old_rsa.kid})
    assert set(SigningKey.objects.filter(retired_at__isnull=True)) == {new_ec, new_rsa}
    assert {key["kid"] for key in _jwks()} == {old_ec.kid, old_rsa.kid, new_ec.kid, new_rsa.kid}
    new_token = mint_access_token(_claims(), signing=ApiSigning.of(es256_api))
    assert jwt.get_unverified_header(new_token)["kid"] == new_ec.kid
    assert verify_access_token(old_token, audience=FAST_API)
    assert verify_access_token(new_token, audience=FAST_API)


def test_a_retired_ec_key_goes_when_its_tokens_have_expired(es256_api):
    old = signing_key_current(ES256)
    old_token = mint_access_token(_claims(), signing=ApiSigning.of(es256_api))
    signing_key_rotate()
    assert old.kid in {key["kid"] for key in _jwks()}

    retired_long_ago = timezone.now() - timedelta(seconds=longest_token_lifetime() + 1)
    SigningKey.objects.filter(pk=old.pk).update(retired_at=retired_long_ago)
    forget_current_key()  # as if this process had not built the JWKS yet
    assert old.kid not in {key["kid"] for key in _jwks()}  # purged, which changes the version
    assert not SigningKey.objects.filter(pk=old.pk).exists()
    _refused(old_token)


@pytest.mark.parametrize(("before", "after"), [("ES256", "RS256"), ("RS256", "ES256"), ("ES256", "HS256")])
def test_changing_the_algorithm_refuses_the_old_tokens_at_once(es256_api, before, after):
    api_update(api=es256_api, signing_algorithm=before)
    token = mint_access_token(_claims(), signing=ApiSigning.of(es256_api))
    assert verify_access_token(token, audience=FAST_API)
    api_update(api=es256_api, signing_algorithm=after)
    _refused(token)


def test_a_user_token_for_an_es256_api_also_opens_userinfo_and_the_id_token_stays_rs256(
    es256_api, public_client, user, user_client
):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope="openid read:fast", audience=FAST_API)
    body = exchange(user_client, public_client.client_id, code, pkce.verifier).json()

    assert jwt.get_unverified_header(body["access_token"])["alg"] == "ES256"
    id_header = jwt.get_unverified_header(body["id_token"])
    assert (id_header["alg"], id_header["kid"]) == ("RS256", signing_key_current(RS256).kid)
    assert verify_access_token(body["access_token"], audience=FAST_API)["sub"] == str(user.sub)
    response = HttpClient().get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["sub"] == str(user.sub)
