"""The server's RSA signing keys: created on first use, kept in the database, rotated.

Parsing a PEM costs about a millisecond; keys never change once written, so parsed keys
are cached in the process by ``kid``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from jwcrypto import jwk

from accounts.caching import TtlCache

from .models import Api, SigningKey

RSA_KEY_SIZE = 2048
# Verifiers accept a token this long past its exp (clock skew between servers).
LEEWAY_SECONDS = 30


_parsed: TtlCache[str, jwk.JWK] = TtlCache("parsed signing keys", ttl=None, max_entries=32)


def as_jwk(key: SigningKey) -> jwk.JWK:
    # A key never changes once written: keep its parsed form until evicted.
    return _parsed.get_or_load(key.kid, lambda: jwk.JWK.from_pem(key.private_key_pem.encode()))


def _generate() -> SigningKey:
    private = jwk.JWK.generate(kty="RSA", size=RSA_KEY_SIZE)
    return SigningKey.objects.create(
        kid=private.thumbprint(),
        private_key_pem=private.export_to_pem(private_key=True, password=None).decode(),
    )


# Other processes pick up a rotation within this; the old key stays published meanwhile,
# so whatever it still signs verifies.
CURRENT_KEY_TTL_SECONDS = 30
_current: TtlCache[str, SigningKey] = TtlCache(
    "current signing key", ttl=CURRENT_KEY_TTL_SECONDS, max_entries=1
)
_jwks: TtlCache[str, dict[str, list[dict[str, Any]]]] = TtlCache(
    "published JWKS", ttl=CURRENT_KEY_TTL_SECONDS, max_entries=1
)


def signing_key_current() -> SigningKey:
    """The key that signs from now on, generated the first time one is needed."""
    return _current.get_or_load("current", _current_or_new)


def _current_or_new() -> SigningKey:
    key = SigningKey.objects.filter(retired_at__isnull=True).first()
    if key is None:
        with transaction.atomic():
            key = _generate()
    return key


def forget_current_key() -> None:
    """Drop this process's cached current key and JWKS (after a rotation)."""
    _current.clear()
    _jwks.clear()


def signing_key_rotate() -> SigningKey:
    """Make a new key current; the previous ones stay published until their tokens expire."""
    with transaction.atomic():
        SigningKey.objects.filter(retired_at__isnull=True).update(retired_at=timezone.now())
        key = _generate()
    forget_current_key()
    return key


def longest_token_lifetime() -> int:
    """How long a token signed now may stay valid: ID tokens or the longest-lived API's."""
    id_token = settings.OAUTH2_PROVIDER["ID_TOKEN_EXPIRE_SECONDS"]
    userinfo = settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]
    apis = Api.objects.aggregate(longest=Max("token_lifetime"))["longest"] or 0
    return max(id_token, userinfo, apis) + LEEWAY_SECONDS


def signing_keys_published() -> list[SigningKey]:
    """Current and retired keys that may still have signed a valid token.

    A key retired longer ago than the longest token lifetime signed nothing that is still
    valid, so it is deleted.
    """
    signing_keys_purge()
    signing_key_current()
    return list(SigningKey.objects.all())


def signing_keys_purge() -> int:
    """Delete retired keys whose every token has expired; how many."""
    horizon = timezone.now() - timedelta(seconds=longest_token_lifetime())
    deleted, _ = SigningKey.objects.filter(retired_at__lt=horizon).delete()
    return deleted


def public_jwks() -> dict[str, list[dict[str, Any]]]:
    """The JWKS document: public parameters only, with ``kid``, ``use`` and ``alg``.

    Built at most every CURRENT_KEY_TTL_SECONDS per process; a rotation in this process
    rebuilds it at once.
    """
    return _jwks.get_or_load("published", _build_jwks)


def _build_jwks() -> dict[str, list[dict[str, Any]]]:
    keys = []
    for key in signing_keys_published():
        public = json.loads(as_jwk(key).export_public())
        keys.append({**public, "kid": key.kid, "use": "sig", "alg": key.algorithm})
    return {"keys": keys}
