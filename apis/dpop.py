"""RFC 9449 DPoP proofs: verification for the token endpoint and for the resource servers.

A proof is a JWT the client signs with a key of its own, whose public half travels in the
``jwk`` header. It is checked as §4.3 lists: ``typ`` ``dpop+jwt``, an asymmetric algorithm
we accept (never ``none`` or HMAC), a public key without private members that verifies the
signature, ``htm`` and ``htu`` naming this very request (the URL under ``OIDC_ISSUER``,
never the Host header), ``iat`` within the window, ``ath`` when an access token goes with
it, and a ``jti`` not seen before: the replay cache is Django's cache (Redis in production,
shared by every process), written with ``cache.add`` so that the first use wins.

Server nonces (§8, §9) are stateless: an HMAC of a time window under ``SECRET_KEY``, so every
process accepts the nonce any other one gave, for ``DPOP_NONCE_SECONDS`` to twice that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from django.conf import settings
from django.core.cache import cache

PROOF_TYPE = "dpop+jwt"
# "Ed25519" is RFC 9864's fully-specified name for EdDSA with Ed25519, which openid-client
# and other current libraries sign with; "EdDSA" is the older, polymorphic one.
ALGORITHMS = ("ES256", "EdDSA", "Ed25519", "RS256")
MAX_PROOF_BYTES = 8 * 1024
MIN_RSA_BITS = 2048
# The key types and curves each algorithm may use (RFC 7518, RFC 8037).
_KEY_TYPES = {
    "ES256": ("EC", "P-256"),
    "EdDSA": ("OKP", "Ed25519"),
    "Ed25519": ("OKP", "Ed25519"),
    "RS256": ("RSA", None),
}
_REQUIRED_CLAIMS = ("jti", "htm", "htu", "iat")
# Signatures only: the claims are checked here, as RFC 9449 says.
_JWS = jwt.PyJWS(algorithms=["ES256", "EdDSA", "RS256"])
_JWS.register_algorithm("Ed25519", jwt.algorithms.OKPAlgorithm())
# RFC 7638 §3.2: the members of each key type that make its thumbprint, in order.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_REPLAY_PREFIX = "dpop:jti:"


class InvalidProof(Exception):
    """The proof cannot be accepted; the message is safe to show the caller."""


class NonceRequired(InvalidProof):
    """The proof lacks a current server nonce: ``nonce`` is the one to use (``use_dpop_nonce``)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.nonce = nonce_new()


class KeyMismatch(InvalidProof):
    """A valid proof made with a key other than the access token's (``invalid_token``)."""


@dataclass(frozen=True)
class Proof:
    """A verified proof: ``jkt`` is the RFC 7638 thumbprint of the client's key."""

    jkt: str
    claims: dict[str, Any]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(key: dict[str, Any]) -> str:
    """RFC 7638: base64url(SHA-256) of the key's required members as compact JSON."""
    members = _THUMBPRINT_MEMBERS.get(str(key.get("kty")))
    if members is None or any(not isinstance(key.get(name), str) for name in members):
        raise InvalidProof("The jwk header is not a public key of a supported type.")
    canonical = json.dumps({name: key[name] for name in members}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def access_token_hash(access_token: str) -> str:
    """The ``ath`` of an access token: base64url(SHA-256(token))."""
    return _b64url(hashlib.sha256(access_token.encode("ascii")).digest())


def request_url(path: str) -> str:
    """The URL a proof's ``htu`` must name for a request to ``path`` on this server."""
    return settings.OIDC_ISSUER.rstrip("/") + _path_below_issuer(path)


def _path_below_issuer(path: str) -> str:
    issuer_path = urlsplit(settings.OIDC_ISSUER).path.rstrip("/")
    # A server mounted under the issuer's path sees it in request.path already.
    return path[len(issuer_path) :] if issuer_path and path.startswith(issuer_path + "/") else path


def _normalized(url: str) -> tuple[str, str, str]:
    """Scheme, host with a non-default port, and path: what RFC 9449 §4.3 compares (no
    query, no fragment; RFC 3986 §6 normalization of case and default ports)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ("", "", "")
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port is not None and (scheme, port) not in {("http", 80), ("https", 443)}:
        host = f"{host}:{port}"
    return scheme, host, parts.path or "/"


# --- Nonces ---------------------------------------------------------------------------------


def _nonce_seconds() -> int:
    return int(settings.DPOP_NONCE_SECONDS)


def _nonce_for(window: int) -> str:
    message = f"dpop-nonce:{window}".encode()
    digest = hmac.new(str(settings.SECRET_KEY).encode(), message, hashlib.sha256).digest()
    return f"{window:x}.{_b64url(digest[:18])}"


def nonce_new() -> str:
    """The nonce of the current window, the same in every process."""
    return _nonce_for(int(time.time()) // _nonce_seconds())


def nonce_valid(nonce: str) -> bool:
    """The nonce of this window or the previous one."""
    window = int(time.time()) // _nonce_seconds()
    return any(hmac.compare_digest(nonce, _nonce_for(current)) for current in (window, window - 1))


def nonce_required() -> bool:
    return bool(settings.DPOP_NONCE_REQUIRED)


# --- Verification ---------------------------------------------------------------------------


def verify_proof(
    proof: str, *, method: str, url: str, access_token: str | None = None, bound_to: str | None = None
) -> Proof:
    """The verified proof for a ``method`` request to ``url``, else InvalidProof (or its
    NonceRequired). With ``access_token`` (at a resource server) ``ath`` must match it and
    the key must be the one the token is ``bound_to`` (KeyMismatch otherwise). The ``jti``
    is recorded last, so a refused proof does not use it up."""
    header, key = _header_and_key(proof)
    try:
        claims = json.loads(_JWS.decode(proof, key, algorithms=[header["alg"]]))
    except (jwt.InvalidTokenError, ValueError) as error:
        raise InvalidProof("The DPoP proof's signature is invalid.") from error
    if not isinstance(claims, dict) or any(name not in claims for name in _REQUIRED_CLAIMS):
        raise InvalidProof("The DPoP proof must have the claims jti, htm, htu and iat.")
    if claims["htm"] != method:
        raise InvalidProof("The DPoP proof's htm is not the request's method.")
    if not isinstance(claims["htu"], str) or _normalized(claims["htu"]) != _normalized(url):
        raise InvalidProof("The DPoP proof's htu is not the request's URL.")
    _check_iat(claims["iat"])
    if not isinstance(claims["jti"], str) or not 1 <= len(claims["jti"]) <= 256:
        raise InvalidProof("The DPoP proof's jti must be a string of 1 to 256 characters.")
    if access_token is not None:
        ath = claims.get("ath")
        if not isinstance(ath, str) or not hmac.compare_digest(ath, access_token_hash(access_token)):
            raise InvalidProof("The DPoP proof's ath does not match the access token.")
    jkt = jwk_thumbprint(header["jwk"])
    if bound_to is not None and not hmac.compare_digest(jkt, bound_to):
        raise KeyMismatch("The DPoP proof is signed with another key than the access token is bound to.")
    _check_nonce(claims.get("nonce"))
    _first_use(jkt, claims["jti"])
    return Proof(jkt=jkt, claims=claims)


def _header_and_key(proof: str) -> tuple[dict[str, Any], Any]:
    if len(proof) > MAX_PROOF_BYTES:
        raise InvalidProof("The DPoP proof is too large.")
    try:
        header = jwt.get_unverified_header(proof)
    except jwt.InvalidTokenError as error:
        raise InvalidProof("The DPoP proof is not a JWT.") from error
    if header.get("typ") != PROOF_TYPE:
        raise InvalidProof(f'The DPoP proof\'s typ must be "{PROOF_TYPE}".')
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise InvalidProof(f"The DPoP proof's alg must be one of {', '.join(ALGORITHMS)}.")
    key = header.get("jwk")
    if not isinstance(key, dict):
        raise InvalidProof("The DPoP proof has no jwk header.")
    if _PRIVATE_MEMBERS & set(key):
        raise InvalidProof("The DPoP proof's jwk must be a public key (it has private members).")
    kty, crv = _KEY_TYPES[algorithm]
    if key.get("kty") != kty or (crv is not None and key.get("crv") != crv):
        raise InvalidProof(f"The DPoP proof's jwk is not a key for {algorithm}.")
    try:
        public_key = jwt.PyJWK(key, "EdDSA" if algorithm == "Ed25519" else algorithm).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as error:
        raise InvalidProof("The DPoP proof's jwk is not a valid key.") from error
    if kty == "RSA" and public_key.key_size < MIN_RSA_BITS:
        raise InvalidProof(f"The DPoP proof's RSA key must have at least {MIN_RSA_BITS} bits.")
    return header, public_key


def _check_iat(iat: Any) -> None:
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise InvalidProof("The DPoP proof's iat must be a number.")
    now = time.time()
    if iat < now - int(settings.DPOP_IAT_PAST_SECONDS):
        raise InvalidProof("The DPoP proof is too old (iat).")
    if iat > now + int(settings.DPOP_IAT_FUTURE_SECONDS):
        raise InvalidProof("The DPoP proof's iat is in the future.")


def _check_nonce(nonce: Any) -> None:
    """A nonce, when sent, must be current (an old one asks for a new one); without one,
    only when this server requires nonces."""
    if nonce is None:
        if nonce_required():
            raise NonceRequired("Use the server's DPoP nonce (DPoP-Nonce) in the proof.")
        return
    if not isinstance(nonce, str) or not nonce_valid(nonce):
        raise NonceRequired("The DPoP proof's nonce is not current: use the new DPoP-Nonce.")


def _first_use(jkt: str, jti: str) -> None:
    """Record the proof's jti for as long as its iat is accepted; a second use is refused."""
    key = _REPLAY_PREFIX + hashlib.sha256(f"{jkt} {jti}".encode()).hexdigest()
    lifetime = int(settings.DPOP_IAT_PAST_SECONDS) + int(settings.DPOP_IAT_FUTURE_SECONDS)
    if not cache.add(key, 1, timeout=lifetime + 5):
        raise InvalidProof("The DPoP proof has been used before (jti).")


# --- Resource servers -----------------------------------------------------------------------


class DpopRefused(Exception):
    """A resource request refused for its DPoP binding: 401 with ``challenge()``."""

    def __init__(self, error: str, description: str, nonce: str | None = None) -> None:
        super().__init__(description)
        self.error, self.description, self.nonce = error, description, nonce

    def challenge(self, realm: str) -> str:
        """RFC 9449 §7.1: the DPoP scheme, its error and the algorithms we accept."""
        description = self.description.replace("\\", "\\\\").replace('"', '\\"')
        return (
            f'DPoP realm="{realm}", error="{self.error}", error_description="{description}", '
            f'algs="{" ".join(ALGORITHMS)}"'
        )


def token_binding(claims: dict[str, Any]) -> str | None:
    """The ``cnf.jkt`` an access token is bound to, if any."""
    confirmation = claims.get("cnf")
    jkt = confirmation.get("jkt") if isinstance(confirmation, dict) else None
    return jkt if isinstance(jkt, str) else None


def resource_request_check(
    claims: dict[str, Any], *, scheme: str, proof: str | None, method: str, path: str, token: str
) -> None:
    """Whether a verified access token may be used as presented, else DpopRefused.

    A DPoP-bound token only under the DPoP scheme, with one valid proof of its key for this
    request (§7.1; presented as Bearer it is refused, §7.2). Under the DPoP scheme a token
    must be bound: the proof must be of "the public key to which the access token is bound"
    (§4.3 check 12), and an unbound token has none. A Bearer token without ``cnf`` is used
    as ever, whatever DPoP header comes with it.
    """
    jkt = token_binding(claims)
    if scheme == "bearer":
        if jkt is not None:
            raise DpopRefused(
                "invalid_token", "The access token is DPoP-bound: use the DPoP scheme and a proof."
            )
        return
    if jkt is None:
        raise DpopRefused("invalid_token", "The access token is not DPoP-bound: use the Bearer scheme.")
    if not proof or "," in proof:
        raise DpopRefused("invalid_dpop_proof", "Send exactly one DPoP proof with the request.")
    try:
        verify_proof(proof, method=method, url=request_url(path), access_token=token, bound_to=jkt)
    except NonceRequired as refused:
        raise DpopRefused("use_dpop_nonce", str(refused), refused.nonce) from refused
    except KeyMismatch as refused:
        raise DpopRefused("invalid_token", str(refused)) from refused
    except InvalidProof as refused:
        raise DpopRefused("invalid_dpop_proof", str(refused)) from refused
