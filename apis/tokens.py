"""RFC 9068 JWT access tokens: minting (authorization server) and verification (APIs).

Verification never trusts the token to say how it should be checked: the algorithm comes
from the API's configuration, the key from our own key store, and a ``kid``, ``jku``,
``x5u`` or embedded ``jwk`` header never causes a lookup elsewhere. Everything it needs is
cached in the process under the CONFIGURATION version (``accounts.versions``), so verifying
costs no database query once warm, and a changed API or a rotated key is seen at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from django.conf import settings

from accounts.caching import TtlCache
from accounts.checksums import token_checksum
from accounts.versions import CONFIGURATION, VersionedCache, round_trip

from .keys import LEEWAY_SECONDS, RS256, private_key, signing_key_current
from .models import Api, SigningKey
from .revocation import REVOCATION, is_revoked

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
MAX_TOKEN_BYTES = 8 * 1024
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
        return "hs-" + token_checksum(self.hs256_secret)[:16]


# --- Minting --------------------------------------------------------------------------------


def _private_key(key: SigningKey) -> RSAPrivateKey:
    """Our RSA ``key`` parsed: the tests forge RS256 tokens and HMAC secrets with it."""
    parsed = private_key(key)
    if not isinstance(parsed, RSAPrivateKey):
        raise TypeError(f"{key} is not an RSA key.")
    return parsed


def mint_access_token(claims: dict[str, Any], *, signing: ApiSigning | None) -> str:
    """Sign ``claims`` as an access token for the API (RS256 when there is none: /userinfo)."""
    if signing is not None and signing.algorithm == Api.Algorithm.HS256:
        headers = {"typ": ACCESS_TOKEN_TYPE, "kid": signing.hs256_kid}
        return jwt.encode(claims, signing.hs256_secret, algorithm="HS256", headers=headers)
    algorithm = signing.algorithm if signing is not None else RS256
    key = signing_key_current(algorithm)
    headers = {"typ": ACCESS_TOKEN_TYPE, "kid": key.kid}
    return jwt.encode(claims, private_key(key), algorithm=algorithm, headers=headers)


# --- Verification ---------------------------------------------------------------------------

PublicKey = RSAPublicKey | EllipticCurvePublicKey

_api_signing: VersionedCache[str, ApiSigning | None] = VersionedCache("API signing settings", CONFIGURATION)
# The whole key set under one entry, each public key with its algorithm: an unknown ``kid``
# waits for the next change of the version instead of reloading the set, so a flood of
# forged kids is not a flood of queries.
_public_keys: VersionedCache[str, dict[str, tuple[str, PublicKey]]] = VersionedCache(
    "published public keys", CONFIGURATION, max_entries=1
)
# Tokens whose signature and claims were verified, by hash (never the token) and audience,
# until they expire. An entry remembers the API's signing settings, so a changed algorithm
# or secret sends the token through full verification again. The revocation list is still
# consulted on every request.
_verified: TtlCache[tuple[str, str], tuple[ApiSigning, dict[str, Any]]] = TtlCache(
    "verified access tokens", ttl=None, max_entries=10_000
)


def api_signing(identifier: str) -> ApiSigning | None:
    """The signing settings of the API ``identifier`` names (None: not registered)."""

    def load() -> ApiSigning | None:
        api = Api.objects.filter(identifier=identifier).first()
        return ApiSigning.of(api) if api is not None else None

    return _api_signing.get_or_load(identifier, load)


def _public_key(kid: str, algorithm: str) -> PublicKey | None:
    """Our public key ``kid`` names, if it is a key for ``algorithm`` (an RSA kid in an ES256
    token, or an EC kid in an RS256 token, names no key)."""

    def load() -> dict[str, tuple[str, PublicKey]]:
        keys = SigningKey.objects.only("kid", "algorithm", "private_key_pem")
        return {key.kid: (key.algorithm, private_key(key).public_key()) for key in keys}

    found = _public_keys.get_or_load("published", load).get(kid)
    return found[1] if found is not None and found[0] == algorithm else None


def forget_verification_settings() -> None:
    """Drop this process's view of API settings and keys, and the tokens it verified (tests:
    as if another process had changed them, or the tokens had not been seen)."""
    for cache in (_api_signing, _public_keys, _verified):
        cache.clear()


def _verified_claims(token: str, audience: str, signing: ApiSigning) -> dict[str, Any] | None:
    cached = _verified.get((audience, token_checksum(token)))
    if cached is None or cached[0] != signing:
        return None
    return cached[1]


def _remember_verified(token: str, audience: str, signing: ApiSigning, claims: dict[str, Any]) -> None:
    lifetime = claims["exp"] + LEEWAY_SECONDS - time.time()
    _verified.put((audience, token_checksum(token)), (signing, claims), ttl=lifetime)


def _verification_key(header: dict[str, Any], signing: ApiSigning) -> Any:
    """The key ``signing`` says to verify with: the API's secret, or our public key ``kid`` names."""
    if signing.algorithm == Api.Algorithm.HS256:
        if header.get("kid") != signing.hs256_kid:
            raise InvalidToken("The access token was signed with a secret that is no longer valid.")
        return signing.hs256_secret
    key = _public_key(str(header.get("kid", "")), signing.algorithm)
    if key is None:
        raise InvalidToken("The access token was signed with an unknown key.")
    return key


def verify_access_token(token: str, *, audience: str, server_endpoint: bool = False) -> dict[str, Any]:
    """Return the claims of a valid access token for ``audience``, else raise InvalidToken.

    ``audience`` is a registered API's identifier, looked up in the registry, or with
    ``server_endpoint`` the URL of one of this server's own endpoints (see ``_endpoint_signing``).
    The API's settings, the keys and the revocation list are this process's copies, checked
    against their shared versions in one round trip.
    """
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken("The access token is too large.")
    with round_trip([CONFIGURATION, REVOCATION]):
        return _verify(token, audience=audience, server_endpoint=server_endpoint)


def _verify(token: str, *, audience: str, server_endpoint: bool) -> dict[str, Any]:
    signing = _endpoint_signing(token, audience) if server_endpoint else api_signing(audience)
    if signing is not None:
        claims = _verified_claims(token, audience, signing)
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

    try:
        claims = jwt.decode(
            token,
            _verification_key(header, signing),
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
    _remember_verified(token, audience, signing, claims)
    return claims


def _endpoint_signing(token: str, endpoint: str) -> ApiSigning:
    """How a token for ``endpoint``, one of this server's own (``/userinfo``), is verified.

    A token that is also for an API was signed as that API signs (HS256 with its secret, or
    RS256 or ES256 with the server's key); any other with the server's RSA key, as
    ``mint_access_token`` signs without an API. The API is read from the unverified token
    only to choose the key: the algorithm comes from its configuration, and the signature
    and ``aud`` are then checked as for any token.
    """
    try:
        audiences = jwt.decode(token, options={"verify_signature": False}).get("aud")
    except jwt.InvalidTokenError as error:
        raise InvalidToken("The access token is malformed.") from error
    named = [audiences] if isinstance(audiences, str) else audiences if isinstance(audiences, list) else []
    others = [aud for aud in named if isinstance(aud, str) and aud != endpoint]
    signing = api_signing(others[0]) if len(others) == 1 else None
    lifetime = settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]
    return signing or ApiSigning(endpoint, RS256, "", lifetime)
