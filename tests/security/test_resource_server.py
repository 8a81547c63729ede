"""Catalogue: the resource server (JWT access tokens).

The API trusts a token only when our server signed it, for this API, with this API's
algorithm, as an access token; it learns who is calling from the token and shows them
only their own things. See also tests/apis/test_resource_server.py and
tests/timesheets/test_api.py.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import socket
import time
import uuid
from http import HTTPStatus
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.test import Client as HttpClient
from oauth2_provider.models import get_refresh_token_model

from accounts.models import User
from accounts.services import user_deactivate
from apis.keys import signing_key_current
from apis.tokens import ApiSigning, InvalidToken, _private_key, verify_access_token
from authz.services import refresh_token_revoke, user_access_revoke
from clients.services import client_grant_set
from tests.oauth import ISSUER, TIMESHEETS_API, client_credentials
from timesheets.models import Entry

from .helpers import TEST_API, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]
RefreshToken = get_refresh_token_model()
ALL_SCOPES = "openid offline_access read:timesheets create:timesheets delete:timesheets approve:timesheets"
MONDAY = datetime.date(2026, 11, 16)


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


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _rs256(claims: dict | None = None, *, algorithm: str = "RS256", **headers) -> str:
    key = signing_key_current()
    header = {"typ": "at+jwt", "kid": key.kid, **headers}
    return jwt.encode(claims or _claims(), _private_key(key), algorithm=algorithm, headers=header)


def _hmac_token(secret: bytes, header: dict, claims: dict | None = None, digest=hashlib.sha256) -> str:
    signing_input = _b64(json.dumps(header).encode()) + b"." + _b64(json.dumps(claims or _claims()).encode())
    return (signing_input + b"." + _b64(hmac.new(secret, signing_input, digest).digest())).decode()


def _get(token: str | None = None, **extra):
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return HttpClient().get(TEST_API, **headers, **extra)


def _assert_invalid_token(response) -> None:
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="abc-identity"')
    assert 'error="invalid_token"' in challenge


@pytest.fixture
def user_tokens(public_client, user_client, timesheets_api) -> dict:
    return sign_in(user_client, public_client.client_id, scope="openid read:timesheets")


# --- RFC 6750 errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Basic dGVzdDp0ZXN0", "Token abc"],
    ids=["no-header", "empty", "basic", "other-scheme"],
)
def test_without_a_bearer_token_401_has_no_error_code(timesheets_api, authorization):
    extra = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = HttpClient().get(TEST_API, **extra)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="abc-identity"'
    assert b"sub" not in response.content


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "a.b", "....", "eyJ.eyJ.sig", "Bearer x", "x" * 100, "é", ""],
    ids=[
        "word",
        "three-parts",
        "two-parts",
        "dots",
        "b64-junk",
        "nested-scheme",
        "long",
        "non-ascii",
        "empty",
    ],
)
def test_garbage_is_invalid_token(timesheets_api, token):
    _assert_invalid_token(HttpClient().get(TEST_API, HTTP_AUTHORIZATION=f"Bearer {token}"))


def test_a_missing_scope_is_403_insufficient_scope_naming_it(user_tokens):
    response = HttpClient().post(TEST_API, HTTP_AUTHORIZATION=f"Bearer {user_tokens['access_token']}")
    assert response.status_code == HTTPStatus.FORBIDDEN
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="abc-identity"')
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="create:timesheets read:timesheets"' in challenge


# --- Claims -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(lambda now: {"exp": now - 61}, id="expired-beyond-60s-leeway"),
        pytest.param(lambda now: {"exp": now - 3600}, id="expired-an-hour-ago"),
        pytest.param(lambda now: {"nbf": now + 61}, id="not-yet-valid-beyond-60s"),
        pytest.param(lambda now: {"aud": "https://other.example/api"}, id="wrong-audience"),
        pytest.param(lambda now: {"aud": [TIMESHEETS_API + "/"]}, id="audience-with-slash"),
        pytest.param(lambda now: {"aud": "https://timesheets.abcinc.example"}, id="audience-prefix"),
        pytest.param(lambda now: {"iss": "https://evil.example"}, id="wrong-issuer"),
        pytest.param(lambda now: {"iss": ISSUER + "/"}, id="issuer-with-slash"),
        pytest.param(lambda now: {"exp": "never"}, id="exp-not-a-number"),
    ],
)
def test_bad_claims_are_401(timesheets_api, overrides):
    # Times are taken when the test runs, not when the suite is collected.
    _assert_invalid_token(_get(_rs256(_claims(**overrides(int(time.time()))))))


@pytest.mark.parametrize("missing", ["exp", "iss", "aud", "sub", "client_id"])
def test_a_missing_required_claim_is_401(timesheets_api, missing):
    claims = {k: v for k, v in _claims().items() if k != missing}
    _assert_invalid_token(_get(_rs256(claims)))


def test_a_well_formed_forged_claim_set_signed_by_us_is_the_positive_control(timesheets_api):
    assert _get(_rs256()).status_code == HTTPStatus.OK


# --- Algorithms ---------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", ["", "c2ln"], ids=["no-signature", "bogus-signature"])
def test_alg_none_is_refused_in_every_spelling(timesheets_api, alg, signature):
    header = _b64(json.dumps({"alg": alg, "typ": "at+jwt", "kid": signing_key_current().kid}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    _assert_invalid_token(_get(f"{header.decode()}.{payload.decode()}.{signature}"))


@pytest.mark.parametrize("algorithm", ["RS384", "RS512", "PS256", "PS512"])
def test_an_algorithm_other_than_the_apis_is_refused_even_with_our_key(timesheets_api, algorithm):
    _assert_invalid_token(_get(_rs256(algorithm=algorithm)))


def _public_key_encodings() -> dict[str, bytes]:
    public = _private_key(signing_key_current()).public_key()
    spki_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    spki_der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pkcs1_pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    jwk_json = HttpClient().get("/.well-known/jwks.json").json()["keys"][0]
    modulus = public.public_numbers().n.to_bytes(256, "big")
    return {
        "spki-pem": spki_pem,
        "spki-pem-no-newline": spki_pem.rstrip(b"\n"),
        "spki-der": spki_der,
        "spki-der-b64": base64.b64encode(spki_der),
        "pkcs1-pem": pkcs1_pem,
        "jwk-json": json.dumps(jwk_json).encode(),
        "jwk-n": jwk_json["n"].encode(),
        "modulus-bytes": modulus,
        "openssh": public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
    }


@pytest.mark.parametrize(
    "encoding",
    [
        "spki-pem",
        "spki-pem-no-newline",
        "spki-der",
        "spki-der-b64",
        "pkcs1-pem",
        "jwk-json",
        "jwk-n",
        "modulus-bytes",
        "openssh",
    ],
)
@pytest.mark.parametrize(("alg", "digest"), [("HS256", hashlib.sha256), ("HS512", hashlib.sha512)])
def test_the_rsa_public_key_as_an_hmac_secret_is_refused_in_every_encoding(
    timesheets_api, encoding, alg, digest
):
    secret = _public_key_encodings()[encoding]
    header = {"alg": alg, "typ": "at+jwt", "kid": signing_key_current().kid}
    _assert_invalid_token(_get(_hmac_token(secret, header, digest=digest)))


def test_an_ec_token_with_our_kid_is_refused(timesheets_api):
    key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(
        _claims(), key, algorithm="ES256", headers={"typ": "at+jwt", "kid": signing_key_current().kid}
    )
    _assert_invalid_token(_get(token))


def test_a_token_signed_by_another_rsa_key_with_our_kid_is_refused(timesheets_api):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(
        _claims(), key, algorithm="RS256", headers={"typ": "at+jwt", "kid": signing_key_current().kid}
    )
    _assert_invalid_token(_get(token))


# --- kid / jku / x5u / jwk ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kid",
    [
        "someone-elses-key",
        "",
        "../../../../dev/null",
        "' OR '1'='1",
        "a" * 5000,
        None,
    ],
    ids=["unknown", "empty", "path-traversal", "sql", "huge", "missing"],
)
def test_kid_tricks_are_refused(timesheets_api, kid):
    key = signing_key_current()
    header = {"typ": "at+jwt"} if kid is None else {"typ": "at+jwt", "kid": kid}
    token = jwt.encode(_claims(), _private_key(key), algorithm="RS256", headers=header)
    _assert_invalid_token(_get(token))


@pytest.fixture
def lookups(monkeypatch) -> list[str]:
    """Every host name the process tries to resolve during the test."""
    seen: list[str] = []
    real = socket.getaddrinfo

    def recording(host, *args, **kwargs):
        seen.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    return seen


def _attacker_jwk() -> tuple[rsa.RSAPrivateKey, dict]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    as_jwk = {
        "kty": "RSA",
        "kid": "attacker",
        "n": _b64(numbers.n.to_bytes(256, "big")).decode(),
        "e": _b64(numbers.e.to_bytes(3, "big")).decode(),
    }
    return key, as_jwk


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk", "x5c", "jku-with-our-kid"])
def test_key_location_headers_are_refused_without_any_outbound_request(timesheets_api, lookups, header):
    attacker, attacker_jwk = _attacker_jwk()
    headers_by_case: dict[str, dict[str, Any]] = {
        "jku": {"jku": "https://evil.example/jwks.json", "kid": "attacker"},
        "x5u": {"x5u": "https://evil.example/cert.pem", "kid": "attacker"},
        "jwk": {"jwk": attacker_jwk, "kid": "attacker"},
        "x5c": {"x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"], "kid": "attacker"},
        "jku-with-our-kid": {"jku": "https://evil.example/jwks.json", "kid": signing_key_current().kid},
    }
    headers = headers_by_case[header]
    token = jwt.encode(_claims(), attacker, algorithm="RS256", headers={"typ": "at+jwt", **headers})
    _assert_invalid_token(_get(token))
    assert not [host for host in lookups if "evil" in host]


# --- Not an access token ------------------------------------------------------------------------


def test_an_id_token_is_not_an_access_token(user_tokens):
    assert jwt.get_unverified_header(user_tokens["id_token"])["typ"] != "at+jwt"
    _assert_invalid_token(_get(user_tokens["id_token"]))


@pytest.mark.parametrize("typ", ["JWT", "jwt", "", "id_token", "at+jwt+evil", None])
def test_a_token_without_typ_at_jwt_is_refused_even_with_our_signature(timesheets_api, typ):
    key = signing_key_current()
    # PyJWT leaves typ out altogether when it is None or empty.
    token = jwt.encode(_claims(), _private_key(key), algorithm="RS256", headers={"kid": key.kid, "typ": typ})
    assert jwt.get_unverified_header(token).get("typ") == (typ or None)
    _assert_invalid_token(_get(token))


def test_a_token_signed_with_a_client_secret_is_never_trusted(confidential_client, timesheets_api):
    _, secret = confidential_client
    for headers in ({"typ": "at+jwt"}, {"typ": "at+jwt", "kid": signing_key_current().kid}):
        forged = jwt.encode(_claims(), secret, algorithm="HS256", headers=headers)
        _assert_invalid_token(_get(forged))


def test_a_client_secret_token_is_refused_by_an_hs256_api_too(confidential_client, hs256_api):
    client, secret = confidential_client
    claims = _claims(aud=hs256_api.identifier, client_id=client.client_id)
    kid = ApiSigning.of(hs256_api).hs256_kid
    for headers in ({"typ": "at+jwt"}, {"typ": "at+jwt", "kid": kid}):
        forged = jwt.encode(claims, secret, algorithm="HS256", headers=headers)
        with pytest.raises(InvalidToken):
            verify_access_token(forged, audience=hs256_api.identifier)


# --- Transport ------------------------------------------------------------------------------------


@pytest.mark.parametrize("place", ["query", "form", "json", "cookie", "x-header"])
def test_the_token_is_read_from_the_authorization_header_only(user_tokens, place):
    token = user_tokens["access_token"]
    http = HttpClient()
    if place == "query":
        response = http.get(f"{TEST_API}?access_token={token}")
    elif place == "form":
        response = http.post(TEST_API, {"access_token": token})
    elif place == "json":
        response = http.post(TEST_API, {"access_token": token}, content_type="application/json")
    elif place == "cookie":
        http.cookies["access_token"] = token
        response = http.get(TEST_API)
    else:
        response = http.get(TEST_API, HTTP_X_ACCESS_TOKEN=token)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="abc-identity"'


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_scheme_is_case_insensitive(user_tokens, scheme):
    response = HttpClient().get(TEST_API, HTTP_AUTHORIZATION=f"{scheme} {user_tokens['access_token']}")
    assert response.status_code == HTTPStatus.OK


# --- Object level (the Timesheets API) ------------------------------------------------------------


@pytest.fixture
def bob(db, password) -> User:
    return User.objects.create_user(email="bob@abcinc.example", password=password, name="Bob")


def _api_for(person: User, public_client, scope: str = ALL_SCOPES) -> HttpClient:
    http = HttpClient()
    http.force_login(person)
    token = sign_in(http, public_client.client_id, scope=scope)["access_token"]
    return HttpClient(HTTP_AUTHORIZATION=f"Bearer {token}")


def _entry(worker: User, status: str = Entry.Status.DRAFT) -> Entry:
    return Entry.objects.create(worker=worker, date=MONDAY, project="Apollo", minutes=480, status=status)


@pytest.mark.urls("config.urls")
@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/submit"),
        ("post", "/approve"),
        ("post", "/reject"),
    ],
)
def test_another_users_entry_is_404_and_unchanged(public_client, timesheets_api, user, bob, method, suffix):
    theirs = _entry(bob, Entry.Status.SUBMITTED if suffix in {"/approve", "/reject"} else Entry.Status.DRAFT)
    before = Entry.objects.filter(pk=theirs.pk).values().get()
    api = _api_for(user, public_client)
    response = getattr(api, method)(
        f"/api/timesheets/{theirs.pk}{suffix}",
        {"hours": "1", "reason": "no"},
        content_type="application/json",
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert Entry.objects.filter(pk=theirs.pk).values().get() == before


@pytest.mark.urls("config.urls")
def test_the_list_holds_only_what_the_caller_may_see(public_client, timesheets_api, user, bob):
    mine = _entry(user)
    _entry(bob)
    api = _api_for(user, public_client)
    for query in ({}, {"team": "true"}, {"worker": bob.email}, {"page_size": "200"}):
        response = api.get("/api/timesheets", query)
        if response.status_code == HTTPStatus.OK:
            assert {row["worker"] for row in response.json()["results"]} <= {user.email}, query
    assert [row["id"] for row in api.get("/api/timesheets").json()["results"]] == [mine.pk]


@pytest.mark.urls("config.urls")
def test_identity_comes_from_the_token_never_the_body(public_client, timesheets_api, user, bob):
    api = _api_for(user, public_client)
    body = {
        "date": "2026-11-17",
        "project": "Apollo",
        "hours": "2",
        "worker": bob.email,
        "worker_id": bob.pk,
        "user": bob.pk,
        "sub": str(bob.sub),
        "status": "approved",
        "decided_by": bob.email,
    }
    response = api.post("/api/timesheets", body, content_type="application/json")
    assert response.status_code == HTTPStatus.CREATED
    entry = Entry.objects.get(pk=response.json()["id"])
    assert entry.worker == user
    assert entry.status == Entry.Status.DRAFT
    assert entry.decided_by is None


@pytest.mark.urls("config.urls")
def test_read_only_fields_cannot_be_written(public_client, timesheets_api, user, bob):
    entry = _entry(user)
    api = _api_for(user, public_client)
    response = api.patch(
        f"/api/timesheets/{entry.pk}",
        {"status": "approved", "worker": bob.email, "user": bob.pk, "decided_by": bob.email, "id": 999},
        content_type="application/json",
    )
    assert response.status_code in {HTTPStatus.OK, HTTPStatus.BAD_REQUEST}
    entry.refresh_from_db()
    assert entry.status == Entry.Status.DRAFT
    assert entry.worker == user
    assert entry.decided_by is None
    assert not Entry.objects.filter(pk=999).exists()


@pytest.mark.urls("config.urls")
@pytest.mark.parametrize("is_staff", [False, True])
def test_no_self_approval(public_client, timesheets_api, user, is_staff):
    User.objects.filter(pk=user.pk).update(is_staff=is_staff)
    entry = _entry(user, Entry.Status.SUBMITTED)
    response = _api_for(user, public_client).post(f"/api/timesheets/{entry.pk}/approve")
    assert response.status_code == HTTPStatus.FORBIDDEN
    entry.refresh_from_db()
    assert entry.status == Entry.Status.SUBMITTED


@pytest.mark.urls("config.urls")
def test_a_machine_token_without_read_timesheets_cannot_read_a_persons_entries(
    confidential_client, timesheets_api, user
):
    # A machine granted read:timesheets reads every entry (payroll exports, issue 12;
    # tests/security/test_machine_clients.py); without that scope it reads none.
    entry = _entry(user)
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["create:timesheets"])
    token = client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()["access_token"]
    for path in ("/api/timesheets", f"/api/timesheets/{entry.pk}"):
        response = HttpClient().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
        assert user.email.encode() not in response.content


# --- Revocation reaches the API at once -----------------------------------------------------------


def test_deactivating_a_user_takes_effect_at_the_api_at_once(user_tokens, user, staff_user):
    assert _get(user_tokens["access_token"]).status_code == HTTPStatus.OK
    user_deactivate(actor=staff_user, user=user, revoke_access=user_access_revoke)
    _assert_invalid_token(_get(user_tokens["access_token"]))


def test_revoking_a_grant_in_the_dashboard_takes_effect_at_the_api_at_once(
    public_client, user_client, timesheets_api
):
    tokens = sign_in(user_client, public_client.client_id)
    assert _get(tokens["access_token"]).status_code == HTTPStatus.OK
    refresh_token_revoke(actor=None, token=RefreshToken.objects.get())
    _assert_invalid_token(_get(tokens["access_token"]))


@pytest.mark.urls("config.urls")
def test_an_inactive_user_is_refused_by_the_timesheets_api_however_deactivated(
    public_client, timesheets_api, user
):
    api = _api_for(user, public_client)
    assert api.get("/api/timesheets").status_code == HTTPStatus.OK
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = api.get("/api/timesheets")
    assert response.status_code in {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}
