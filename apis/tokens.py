"""RFC 9068 JWT access tokens: minting (authorization server) and verification (APIs).

Verification never trusts the token to say how it should be checked: the algorithm comes
from the API's configuration, the key from our own key store, and a ``kid``, ``jku``,
``x5u`` or embedded ``jwk`` header never causes a lookup elsewhere. Everything it needs is
cached in the process, so verifying costs no database query once warm.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings

from .keys import LEEWAY_SECONDS, signing_key_current
from .models import Api, SigningKey
from .revocation import is_revoked

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
MAX_TOKEN_BYTES = 8 * 1024
# How long a resource server trusts its cached view of an API's signing settings and of
# the published keys. Changing an API's algorithm or secret reaches verifiers within it.
CONFIG_TTL_SECONDS = 30
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})


class InvalidToken(Exception):
    """The bearer token cannot be trusted; the message is safe to show the caller."""


@dataclass(frozen=True)
class ApiSigning:
    """What signing or verifying a token for one API needs, detached from the ORM."""

    identifier: str
    algorithm: str
    hs256_secret: str
    token_lifetime: int

    @classmethod
    def of(cls, api: Api) -> ApiSigning:
        return cls(api.identifier, api.signing_algorithm, api.hs256_secret, api.token_lifetime)

    @property
    def hs256_kid(self) -> str:
        """Names the secret without revealing it, so verifiers notice a rotation."""
        return "hs-" + hashlib.sha256(self.hs256_secret.encode()).hexdigest()[:16]


# --- Minting --------------------------------------------------------------------------------

_private_keys: dict[str, RSAPrivateKey] = {}


def _private_key(key: SigningKey) -> RSAPrivateKey:
    if key.kid not in _private_keys:
        _private_keys[key.kid] = load_pem_private_key(key.private_key_pem.encode(), password=None)
    return _private_keys[key.kid]


def mint_access_token(claims: dict[str, Any], *, signing: ApiSigning | None) -> str:
    """Sign ``claims`` as an access token for the API (RS256 when there is none: /userinfo)."""
    if signing is not None and signing.algorithm == Api.Algorithm.HS256:
        headers = {"typ": ACCESS_TOKEN_TYPE, "kid": signing.hs256_kid}
        return jwt.encode(claims, signing.hs256_secret, algorithm="HS256", headers=headers)
    key = signing_key_current()
    return jwt.encode(
        claims, _private_key(key), algorithm="RS256", headers={"typ": ACCESS_TOKEN_TYPE, "kid": key.kid}
    )


# --- Verification ---------------------------------------------------------------------------


class _VerifierCache:
    """Per-process cache of API signing settings and public keys, refreshed on a TTL."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._apis: dict[str, tuple[float, ApiSigning | None]] = {}
        self._keys: dict[str, RSAPublicKey] = {}
        self._keys_loaded_at = float("-inf")

    def api(self, identifier: str) -> ApiSigning | None:
        now = time.monotonic()
        cached = self._apis.get(identifier)
        if cached is None or cached[0] < now:
            api = Api.objects.filter(identifier=identifier).first()
            cached = (now + CONFIG_TTL_SECONDS, ApiSigning.of(api) if api else None)
            with self._lock:
                self._apis[identifier] = cached
        return cached[1]

    def public_key(self, kid: str) -> RSAPublicKey | None:
        key = self._keys.get(kid)
        # An unknown kid reloads the key set at most once per TTL: a flood of forged kids
        # cannot turn into a flood of queries.
        if key is None and time.monotonic() - self._keys_loaded_at > CONFIG_TTL_SECONDS:
            self._reload_keys()
            key = self._keys.get(kid)
        return key

    def _reload_keys(self) -> None:
        keys = {
            key.kid: _private_key(key).public_key()
            for key in SigningKey.objects.only("kid", "private_key_pem")
        }
        with self._lock:
            self._keys = keys
            self._keys_loaded_at = time.monotonic()

    def clear(self) -> None:
        with self._lock:
            self._apis.clear()
            self._keys = {}
            self._keys_loaded_at = float("-inf")
        verified_tokens.clear()


verifier_cache = _VerifierCache()


class _VerifiedTokens:
    """A bounded cache of tokens whose signature and claims were verified, until they expire.

    Keyed by the token's hash (never the token) and the audience; an entry also remembers
    the API's signing settings, so a changed algorithm or secret sends the token through
    full verification again. The revocation list is still consulted on every request.
    """

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[ApiSigning, dict[str, Any]]] = OrderedDict()

    def get(self, token: str, audience: str, signing: ApiSigning) -> dict[str, Any] | None:
        key = (audience, hashlib.sha256(token.encode()).hexdigest())
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            cached_signing, claims = entry
            if cached_signing != signing or claims["exp"] + LEEWAY_SECONDS < time.time():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return claims

    def put(self, token: str, audience: str, signing: ApiSigning, claims: dict[str, Any]) -> None:
        key = (audience, hashlib.sha256(token.encode()).hexdigest())
        with self._lock:
            self._entries[key] = (signing, claims)
            self._entries.move_to_end(key)
            while len(self._entries) > self.MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


verified_tokens = _VerifiedTokens()


def verify_access_token(token: str, *, audience: str) -> dict[str, Any]:
    """Return the claims of a valid access token for ``audience``, else raise InvalidToken."""
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken("The access token is too large.")
    signing = verifier_cache.api(audience)
    if signing is not None:
        claims = verified_tokens.get(token, audience, signing)
        if claims is not None:
            if is_revoked(claims):
                raise InvalidToken("The access token has been revoked.")
            return claims
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise InvalidToken("The access token is malformed.") from error

    if str(header.get("typ", "")).lower() not in {ACCESS_TOKEN_TYPE, f"application/{ACCESS_TOKEN_TYPE}"}:
        raise InvalidToken("The token is not an access token.")
    if FORBIDDEN_HEADERS & set(header):
        raise InvalidToken("The access token header is not accepted.")

    if signing is None:
        raise InvalidToken("The API is not registered.")
    if header.get("alg") != signing.algorithm:
        raise InvalidToken("The access token is not signed with this API's algorithm.")

    key: Any
    if signing.algorithm == Api.Algorithm.HS256:
        if header.get("kid") != signing.hs256_kid:
            raise InvalidToken("The access token was signed with a secret that is no longer valid.")
        key = signing.hs256_secret
    else:
        key = verifier_cache.public_key(str(header.get("kid", "")))
        if key is None:
            raise InvalidToken("The access token was signed with an unknown key.")

    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[signing.algorithm],
            audience=audience,
            issuer=settings.OIDC_ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("The access token expired.") from error
    except jwt.ImmatureSignatureError as error:
        raise InvalidToken("The access token is not valid yet.") from error
    except jwt.InvalidAudienceError as error:
        raise InvalidToken("The access token is not meant for this API.") from error
    except jwt.InvalidIssuerError as error:
        raise InvalidToken("The access token was not issued by this server.") from error
    except jwt.InvalidTokenError as error:
        raise InvalidToken("The access token is invalid.") from error
    if is_revoked(claims):
        raise InvalidToken("The access token has been revoked.")
    verified_tokens.put(token, audience, signing, claims)
    return claims
