"""The server's RSA signing keys: created on first use, kept in the database, rotated.

Parsing a PEM costs about a millisecond; keys never change once written, so parsed keys
are cached in the process by ``kid``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from jwcrypto import jwk

from .models import SigningKey

RSA_KEY_SIZE = 2048


@lru_cache(maxsize=32)
def _parse(kid: str, private_key_pem: str) -> jwk.JWK:
    return jwk.JWK.from_pem(private_key_pem.encode())


def as_jwk(key: SigningKey) -> jwk.JWK:
    return _parse(key.kid, key.private_key_pem)


def _generate() -> SigningKey:
    private = jwk.JWK.generate(kty="RSA", size=RSA_KEY_SIZE)
    return SigningKey.objects.create(
        kid=private.thumbprint(),
        private_key_pem=private.export_to_pem(private_key=True, password=None).decode(),
    )


def signing_key_current() -> SigningKey:
    """The key that signs from now on, generated the first time one is needed."""
    key = SigningKey.objects.filter(retired_at__isnull=True).first()
    if key is None:
        with transaction.atomic():
            key = _generate()
    return key


def signing_key_rotate() -> SigningKey:
    """Make a new key current; the previous ones stay published until they expire."""
    with transaction.atomic():
        SigningKey.objects.filter(retired_at__isnull=True).update(retired_at=timezone.now())
        return _generate()


def signing_keys_published() -> list[SigningKey]:
    """Current and recently retired keys: the ones a verifier may still need.

    Keys retired longer ago than ``SIGNING_KEY_RETIREMENT_SECONDS`` signed nothing that is
    still valid, so they are dropped from the database as well.
    """
    horizon = timezone.now() - timedelta(seconds=settings.SIGNING_KEY_RETIREMENT_SECONDS)
    SigningKey.objects.filter(retired_at__lt=horizon).delete()
    signing_key_current()
    return list(SigningKey.objects.all())


def public_jwks() -> dict[str, list[dict[str, Any]]]:
    """The JWKS document: public parameters only, with ``kid``, ``use`` and ``alg``."""
    keys = []
    for key in signing_keys_published():
        public = json.loads(as_jwk(key).export_public())
        keys.append({**public, "kid": key.kid, "use": "sig", "alg": key.algorithm})
    return {"keys": keys}
