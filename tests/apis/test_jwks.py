"""The JWKS publishes public keys only; keys rotate without breaking issued tokens."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from jwcrypto import jws

from apis.keys import forget_current_key, longest_token_lifetime, signing_key_current, signing_key_rotate
from apis.models import SigningKey
from apis.services import api_create
from tests.oauth import Pkce, exchange, get_code, jwks, verify

pytestmark = pytest.mark.django_db
PRIVATE_PARAMETERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}


def _keys() -> list[dict]:
    response = HttpClient().get("/.well-known/jwks.json")
    assert response.status_code == HTTPStatus.OK
    assert "max-age=" in response["Cache-Control"]
    return response.json()["keys"]


def test_a_migrated_database_holds_the_first_key_and_the_jwks_publishes_it():
    key = SigningKey.objects.get()  # made by migrate (apis.apps), so a new deployment is ready
    keys = _keys()
    assert [published["kid"] for published in keys] == [key.kid]
    assert _keys() == keys


def test_a_key_is_generated_on_first_use_and_kept_in_the_database():
    SigningKey.objects.all().delete()
    forget_current_key()
    keys = _keys()
    assert len(keys) == 1
    assert SigningKey.objects.get().kid == keys[0]["kid"]
    assert _keys() == keys  # the same key, not a new one per request


def test_jwks_exposes_the_public_key_only():
    (key,) = _keys()
    assert key["kty"] == "RSA"
    assert key["use"] == "sig"
    assert key["alg"] == "RS256"
    assert key["kid"]
    assert not PRIVATE_PARAMETERS & set(key)
    modulus = base64.urlsafe_b64decode(key["n"] + "=" * (-len(key["n"]) % 4))
    assert len(modulus) * 8 >= 2048


def test_rotation_publishes_both_keys_and_signs_with_the_new_one(public_client, user_client):
    old = signing_key_current()
    pkce = Pkce.new()
    old_token = exchange(
        user_client, public_client.client_id, get_code(user_client, "test-mobile", pkce), pkce.verifier
    )
    new = signing_key_rotate()

    assert {k["kid"] for k in _keys()} == {old.kid, new.kid}
    pkce = Pkce.new()
    new_token = exchange(
        user_client, public_client.client_id, get_code(user_client, "test-mobile", pkce), pkce.verifier
    )
    keys = jwks(user_client)
    verify(old_token.json()["id_token"], keys)
    verify(new_token.json()["id_token"], keys)
    assert new_token.json()["id_token"] != old_token.json()["id_token"]
    header = jws.JWS()
    header.deserialize(new_token.json()["id_token"])
    assert json.loads(header.objects["protected"])["kid"] == new.kid


def test_retired_keys_stay_until_every_token_they_signed_expired():
    api_create(identifier="https://long.example/api", name="Long-lived", token_lifetime=7 * 86400)
    old = signing_key_current()
    new = signing_key_rotate()
    lifetime = longest_token_lifetime()
    assert lifetime > 7 * 86400  # the longest-lived API's tokens, plus clock leeway

    SigningKey.objects.filter(pk=old.pk).update(retired_at=timezone.now() - timedelta(seconds=lifetime - 5))
    forget_current_key()  # update() sends no signal: as if another process had purged
    assert {k["kid"] for k in _keys()} == {old.kid, new.kid}

    SigningKey.objects.filter(pk=old.pk).update(retired_at=timezone.now() - timedelta(seconds=lifetime + 1))
    forget_current_key()
    assert {k["kid"] for k in _keys()} == {new.kid}
    assert not SigningKey.objects.filter(pk=old.pk).exists()
