"""Catalogue: discovery and keys.

Discovery advertises only what works and names the one issuer every token and
authorization response carries; the JWKS holds public RSA keys only; key rotation never
breaks a valid token and retirement ends the old key's tokens. See also
tests/authz/test_discovery.py and tests/apis/test_jwks.py.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from apis.keys import longest_token_lifetime, signing_key_current, signing_key_rotate
from apis.models import SigningKey
from apis.tokens import forget_verification_settings
from tests.oauth import ISSUER, Pkce, authorize_url, consent, jwks, verify

from .helpers import api_status, jwt_parts, query_lists, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]
PRIVATE_PARAMETERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}


def _discovery(**headers) -> dict:
    response = HttpClient().get("/.well-known/openid-configuration", **headers)
    assert response.status_code == HTTPStatus.OK
    return response.json()


def _jwks_response():
    response = HttpClient().get("/.well-known/jwks.json")
    assert response.status_code == HTTPStatus.OK
    return response


# --- Discovery ------------------------------------------------------------------------------


def test_issuer_equals_iss_in_tokens_and_authorization_responses_byte_for_byte(
    public_client, user_client, timesheets_api
):
    issuer = _discovery()["issuer"]
    assert issuer == ISSUER

    pkce = Pkce.new()
    success = consent(user_client, authorize_url(public_client.client_id, pkce))
    assert query_lists(success)["iss"] == [issuer]

    error = user_client.get(authorize_url(public_client.client_id, None))  # no PKCE: an error
    assert query_lists(error)["error"] == ["invalid_request"]
    assert query_lists(error)["iss"] == [issuer]

    tokens = sign_in(user_client, public_client.client_id)
    assert jwt_parts(tokens["id_token"])[1]["iss"] == issuer
    assert jwt_parts(tokens["access_token"])[1]["iss"] == issuer


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"HTTP_HOST": "localhost"}, id="other-allowed-host"),
        pytest.param({"HTTP_X_FORWARDED_HOST": "evil.example"}, id="x-forwarded-host"),
        pytest.param({"HTTP_X_FORWARDED_PROTO": "https"}, id="x-forwarded-proto"),
    ],
)
def test_the_issuer_never_comes_from_the_request(public_client, user, headers):
    discovery = _discovery(**headers)
    assert discovery["issuer"] == ISSUER
    for key in [key for key in discovery if key.endswith(("_endpoint", "_uri"))]:
        assert discovery[key].startswith(ISSUER + "/"), key

    http = HttpClient(**headers)
    http.force_login(user)
    redirect = consent(http, authorize_url(public_client.client_id, Pkce.new()))
    assert query_lists(redirect)["iss"] == [ISSUER]


def test_discovery_advertises_only_what_works():
    discovery = _discovery()
    assert discovery["response_types_supported"] == ["code"]
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["authorization_response_iss_parameter_supported"] is True
    grants = set(discovery["grant_types_supported"])
    assert grants == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
    assert not {"implicit", "password"} & grants
    assert set(discovery.get("response_modes_supported", ["query"])) == {"query"}
    assert "none" not in discovery["id_token_signing_alg_values_supported"]
    assert "plain" not in discovery["code_challenge_methods_supported"]
    assert set(discovery["token_endpoint_auth_methods_supported"]) <= {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    }


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "code token"])
def test_a_response_type_not_advertised_is_refused(public_client, user_client, response_type):
    assert response_type not in _discovery()["response_types_supported"]
    response = user_client.get(
        authorize_url(public_client.client_id, Pkce.new(), response_type=response_type)
    )
    assert query_lists(response)["error"] == ["unsupported_response_type"]


# --- JWKS ---------------------------------------------------------------------------------------


def test_jwks_holds_public_rsa_keys_only_with_kid_use_alg_and_a_cache_lifetime(hs256_api):
    signing_key_current()
    signing_key_rotate()
    response = _jwks_response()
    assert "max-age=" in response["Cache-Control"]
    keys = response.json()["keys"]
    assert len(keys) == 2
    assert len({key["kid"] for key in keys}) == len(keys)
    for key in keys:
        assert key["kty"] == "RSA"  # never "oct": an HS256 secret is not published
        assert not PRIVATE_PARAMETERS & set(key)
        assert key["use"] == "sig"
        assert key["alg"] == "RS256"
        assert key["kid"]
        modulus = base64.urlsafe_b64decode(key["n"] + "=" * (-len(key["n"]) % 4))
        assert len(modulus) * 8 >= 2048
    assert hs256_api.hs256_secret.encode() not in response.content
    assert b"PRIVATE" not in response.content


# --- Key rotation -------------------------------------------------------------------------------


def test_rotation_publishes_both_keys_and_tokens_signed_by_either_validate(
    public_client, user_client, timesheets_api
):
    old_key = signing_key_current()
    old = sign_in(user_client, public_client.client_id)
    new_key = signing_key_rotate()  # every process's copy of the keys follows at once
    new = sign_in(user_client, public_client.client_id)

    assert {key["kid"] for key in _jwks_response().json()["keys"]} == {old_key.kid, new_key.kid}
    assert jwt_parts(old["access_token"])[0]["kid"] == old_key.kid
    assert jwt_parts(new["access_token"])[0]["kid"] == new_key.kid
    assert api_status(old["access_token"]) == HTTPStatus.OK
    assert api_status(new["access_token"]) == HTTPStatus.OK
    keys = jwks(user_client)
    verify(old["id_token"], keys, iss=ISSUER)
    verify(new["id_token"], keys, iss=ISSUER)


def test_after_retirement_the_old_keys_tokens_get_401(public_client, user_client, timesheets_api):
    old_key = signing_key_current()
    old = sign_in(user_client, public_client.client_id)
    new_key = signing_key_rotate()
    retired_long_ago = timezone.now() - timedelta(seconds=longest_token_lifetime() + 1)
    SigningKey.objects.filter(pk=old_key.pk).update(retired_at=retired_long_ago)

    assert {key["kid"] for key in _jwks_response().json()["keys"]} == {new_key.kid}
    # update() sends no signal: forget here what the purge's version change would drop.
    forget_verification_settings()
    response = HttpClient().get("/test-api/", HTTP_AUTHORIZATION=f"Bearer {old['access_token']}")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
