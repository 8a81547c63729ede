"""The server's signing keys: created on first use, kept in the database, rotated together.

An RSA key (RS256) signs ID tokens and the access tokens of RS256 APIs; an EC P-256 key
(ES256), created once an ES256 API needs one, signs the access tokens of ES256 APIs.

For each algorithm one key is current (it signs); a next key may be published ahead of its
turn (``apis.key_schedule``) and never signs until a rotation activates it.

A process keeps the current keys, their parsed forms and the JWKS document under the
CONFIGURATION version (``accounts.versions``): every write of a key changes it, so a
rotation reaches every process at once with Redis, and within
``settings.SHARED_VERSION_LOCAL_SECONDS`` without.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from jwcrypto import jwk

from accounts.caching import TtlCache
from accounts.versions import CONFIGURATION, VersionedCache

from .models import CURRENT_KEY, NEXT_KEY, Api, SigningKey

RSA_KEY_SIZE = 2048
EC_CURVE = "P-256"
RS256, ES256 = SigningKey.Algorithm.RS256, SigningKey.Algorithm.ES256
# Verifiers accept a token this long past its exp (clock skew between servers).
LEEWAY_SECONDS = 30

PrivateKey = RSAPrivateKey | EllipticCurvePrivateKey

_current: VersionedCache[str, SigningKey] = VersionedCache(
    "current signing keys", CONFIGURATION, max_entries=4
)
# Parsing an RSA key costs tens of milliseconds. A key never changes once written (its kid
# is its thumbprint), and a parsed key is only reached through its row (``private_key(key)``),
# so a purged key cannot be used again: parsed keys are kept until evicted, across
# configuration changes.
_parsed: TtlCache[str, PrivateKey] = TtlCache("parsed signing keys", ttl=None, max_entries=32)
_parsed_jwk: TtlCache[str, jwk.JWK] = TtlCache("parsed signing keys (JWK)", ttl=None, max_entries=32)
_jwks: VersionedCache[str, dict[str, list[dict[str, Any]]]] = VersionedCache(
    "published JWKS", CONFIGURATION, max_entries=1
)


def private_key(key: SigningKey) -> PrivateKey:
    """``key`` parsed, for PyJWT."""
    return _parsed.get_or_load(
        key.kid, lambda: cast(PrivateKey, load_pem_private_key(key.private_key_pem.encode(), password=None))
    )


def as_jwk(key: SigningKey) -> jwk.JWK:
    """``key`` as a jwcrypto JWK (DOT signs ID tokens with it)."""
    return _parsed_jwk.get_or_load(key.kid, lambda: jwk.JWK.from_pyca(private_key(key)))


def _generate(algorithm: str, *, activated_at: datetime | None) -> SigningKey:
    """A new key: current from ``activated_at``, or a next key (published only) without it."""
    if algorithm == ES256:
        private = jwk.JWK.generate(kty="EC", crv=EC_CURVE)
    else:
        private = jwk.JWK.generate(kty="RSA", size=RSA_KEY_SIZE)
    return SigningKey.objects.create(
        kid=private.thumbprint(),
        algorithm=algorithm,
        private_key_pem=private.export_to_pem(private_key=True, password=None).decode(),
        activated_at=activated_at,
    )


def current_keys() -> QuerySet[SigningKey]:
    """The keys that sign now, at most one per algorithm (a database constraint)."""
    return SigningKey.objects.filter(CURRENT_KEY)


def next_keys() -> QuerySet[SigningKey]:
    """The keys published ahead of their turn, at most one per algorithm; they never sign."""
    return SigningKey.objects.filter(NEXT_KEY)


def signing_key_current(algorithm: str = RS256) -> SigningKey:
    """The key that signs with ``algorithm`` from now on (RS256: the one that signs ID tokens),
    generated the first time one is needed. Never a next key."""
    if algorithm not in SigningKey.Algorithm.values:
        raise ValueError(f"The server has no {algorithm} keys.")
    return _current.get_or_load(algorithm, lambda: _current_or_new(algorithm))


def _current_or_new(algorithm: str) -> SigningKey:
    key = current_keys().filter(algorithm=algorithm).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _generate(algorithm, activated_at=timezone.now())
    except IntegrityError:  # another process made the first key at the same moment: use it
        return current_keys().get(algorithm=algorithm)


def forget_current_key() -> None:
    """Drop this process's current keys and JWKS (tests: as if another process had written)."""
    _current.clear()
    _jwks.clear()


def algorithms_in_use() -> list[str]:
    """RS256 always (ID tokens); ES256 once an ES256 API exists or an EC key signs."""
    needs_ec = (
        Api.objects.filter(signing_algorithm=Api.Algorithm.ES256).exists()
        or current_keys().filter(algorithm=ES256).exists()
    )
    return [RS256, ES256] if needs_ec else [RS256]


def signing_keys_publish_next() -> list[SigningKey]:
    """Publish a next key for every algorithm in use that has none; the keys made.

    Call inside a transaction that locked the unretired keys (``lock_unretired_keys``): two
    callers at once then make one set, and the database refuses a second next key anyway.
    """
    have = set(next_keys().values_list("algorithm", flat=True))
    made = [
        _generate(algorithm, activated_at=None) for algorithm in algorithms_in_use() if algorithm not in have
    ]
    if made:
        CONFIGURATION.changed()  # every process's JWKS must show them
    return made


def lock_unretired_keys() -> list[SigningKey]:
    """Lock the current and next keys until the transaction ends (PostgreSQL; SQLite writes
    one at a time anyway), and return them, newest first."""
    return list(
        SigningKey.objects.select_for_update().filter(retired_at__isnull=True).order_by("-created_at", "-id")
    )


def signing_key_rotate() -> SigningKey:
    """Retire the current keys and make the next ones current, one per algorithm in use:
    the published next key where there is one, a new key otherwise. Returns the new RSA key;
    the previous ones stay published until their tokens expire."""
    with transaction.atomic():
        unretired = lock_unretired_keys()
        waiting = {key.algorithm: key for key in unretired if key.activated_at is None}
        algorithms = dict.fromkeys([*algorithms_in_use(), *waiting])
        now = timezone.now()
        # Retire first: a next key may only become current once no other key is.
        current_keys().update(retired_at=now)
        new = {}
        for algorithm in algorithms:
            if algorithm in waiting:
                waiting[algorithm].activated_at = now
                waiting[algorithm].save(update_fields=["activated_at"])
                new[algorithm] = waiting[algorithm]
            else:
                new[algorithm] = _generate(algorithm, activated_at=now)
        CONFIGURATION.changed()  # update() sends no signal
    return new[RS256]


def longest_token_lifetime() -> int:
    """How long a token signed now may stay valid: ID tokens or the longest-lived API's."""
    id_token = settings.OAUTH2_PROVIDER["ID_TOKEN_EXPIRE_SECONDS"]
    userinfo = settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]
    apis = Api.objects.aggregate(longest=Max("token_lifetime"))["longest"] or 0
    return max(id_token, userinfo, apis) + LEEWAY_SECONDS


def signing_keys_published() -> list[SigningKey]:
    """Next and current keys, and retired keys that may still have signed a valid token.

    A key retired longer ago than the longest token lifetime signed nothing that is still
    valid, so it is deleted. A current key exists for every algorithm in use, so that an
    API sees it in the JWKS before any token it signs.
    """
    signing_keys_purge()
    for algorithm in algorithms_in_use():
        signing_key_current(algorithm)
    return list(SigningKey.objects.all())


def signing_keys_purge() -> int:
    """Delete retired keys whose every token has expired; how many."""
    horizon = timezone.now() - timedelta(seconds=longest_token_lifetime())
    deleted, _ = SigningKey.objects.filter(retired_at__lt=horizon).delete()
    return deleted


def public_jwks() -> dict[str, list[dict[str, Any]]]:
    """The JWKS document: public parameters only (RSA ``n``/``e``, EC ``crv``/``x``/``y``,
    base64url without padding), with ``kid``, ``use`` and ``alg``."""
    return _jwks.get_or_load("published", _build_jwks)


def _build_jwks() -> dict[str, list[dict[str, Any]]]:
    keys = []
    for key in signing_keys_published():
        public = json.loads(as_jwk(key).export_public())
        keys.append({**public, "kid": key.kid, "use": "sig", "alg": key.algorithm})
    return {"keys": keys}
