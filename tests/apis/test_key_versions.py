"""A process keeps the signing keys, the JWKS and the APIs' signing settings until the
CONFIGURATION version changes: a rotation or a changed API made by another process is seen
as soon as the version is, not 30 seconds later."""

from __future__ import annotations

import jwt
import pytest
from django.core.cache import cache
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import timezone
from jwcrypto import jwk

from accounts.versions import CONFIGURATION
from apis import keys
from apis.keys import ES256, RS256, private_key, signing_key_current
from apis.models import Api, SigningKey
from apis.services import api_create
from apis.tokens import ApiSigning, InvalidToken, api_signing, mint_access_token, verify_access_token
from tests.apis.test_es256 import _claims
from tests.oauth import TIMESHEETS_API

# Entries of this process would otherwise expire after SHARED_VERSION_LOCAL_SECONDS without
# Redis: make them last, so that only the version can make them go.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lasting_copies")]


@pytest.fixture
def lasting_copies():
    with override_settings(SHARED_VERSION_LOCAL_SECONDS=3600):
        yield


def _rotate_in_another_process(algorithm: str = RS256) -> SigningKey:
    """What another process's rotation leaves here: new rows (written without this process's
    signal receivers, so its copies are not told) and, once committed, a new version."""
    SigningKey.objects.filter(algorithm=algorithm, retired_at__isnull=True).update(retired_at=timezone.now())
    private = jwk.JWK.generate(kty="EC", crv="P-256") if algorithm == ES256 else jwk.JWK.generate(kty="RSA")
    (key,) = SigningKey.objects.bulk_create(
        [
            SigningKey(
                kid=private.thumbprint(),
                algorithm=algorithm,
                private_key_pem=private.export_to_pem(private_key=True, password=None).decode(),
                created_at=timezone.now(),
                activated_at=timezone.now(),
            )
        ]
    )
    return key


def _publish_new_version() -> None:
    cache.set(CONFIGURATION.key, CONFIGURATION.current() + 1, timeout=None)


@pytest.mark.parametrize("algorithm", [RS256, ES256])
def test_a_rotation_elsewhere_reaches_this_process_with_the_version(algorithm):
    old = signing_key_current(algorithm)
    new = _rotate_in_another_process(algorithm)
    assert signing_key_current(algorithm) == old  # this process's copy, until the version changes
    _publish_new_version()
    assert signing_key_current(algorithm) == new
    assert new.kid in {key["kid"] for key in HttpClient().get("/.well-known/jwks.json").json()["keys"]}


def test_a_rotation_here_is_seen_here_at_once():
    old = signing_key_current()
    new = keys.signing_key_rotate()
    assert new != old
    assert signing_key_current() == new


def test_a_token_signed_with_a_key_made_elsewhere_verifies_once_the_version_changes(timesheets_api):
    warm = mint_access_token(_claims(TIMESHEETS_API), signing=ApiSigning.of(timesheets_api))
    verify_access_token(warm, audience=TIMESHEETS_API)
    new = _rotate_in_another_process()
    header = {"typ": "at+jwt", "kid": new.kid}
    token = jwt.encode(_claims(TIMESHEETS_API), private_key(new), algorithm="RS256", headers=header)
    with pytest.raises(InvalidToken, match="unknown key"):  # an unknown kid does not reload the keys
        verify_access_token(token, audience=TIMESHEETS_API)
    _publish_new_version()
    assert verify_access_token(token, audience=TIMESHEETS_API)["jti"]


def test_an_api_changed_elsewhere_is_seen_once_the_version_changes(timesheets_api):
    assert _algorithm(TIMESHEETS_API) == RS256
    # update() sends no signal: like a write this process does not hear of.
    Api.objects.filter(pk=timesheets_api.pk).update(signing_algorithm=Api.Algorithm.ES256)
    assert _algorithm(TIMESHEETS_API) == RS256
    _publish_new_version()
    assert _algorithm(TIMESHEETS_API) == ES256


def _algorithm(identifier: str) -> str:
    signing = api_signing(identifier)
    assert signing is not None
    return signing.algorithm


def test_writing_a_key_or_an_api_changes_the_version(django_capture_on_commit_callbacks):
    before = CONFIGURATION.current()
    with django_capture_on_commit_callbacks(execute=True):
        keys.signing_key_rotate()
    after_rotation = CONFIGURATION.current()
    assert after_rotation != before
    with django_capture_on_commit_callbacks(execute=True):
        api_create(identifier="https://new.abcinc.example/api", name="New", signing_algorithm="ES256")
    assert CONFIGURATION.current() != after_rotation


def test_retiring_keys_alone_changes_the_version(django_capture_on_commit_callbacks, monkeypatch):
    # A queryset update() sends no signal: the rotation announces the retirement itself.
    monkeypatch.setattr(keys, "_generate", lambda algorithm, activated_at: SigningKey.objects.first())
    signing_key_current()
    before = CONFIGURATION.current()
    with django_capture_on_commit_callbacks(execute=True):
        keys.signing_key_rotate()
    assert CONFIGURATION.current() != before
