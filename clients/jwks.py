"""An application's public keys for private_key_jwt (RFC 7523 §2.2): what a registered JSON
Web Key Set may hold, and where a ``jwks_uri`` may point.

Only public keys of the kinds our algorithms use are accepted (RSA, EC P-256, Ed25519): a
pasted private key would be a secret stored in clear, and a symmetric ``oct`` key would
turn the assertion into a shared secret (``client_secret_jwt``, which we do not offer).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_JWKS_BYTES = 64 * 1024
MAX_KEYS = 20
ALLOWED_KTY = ("RSA", "EC", "OKP")
# Members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037).
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_REQUIRED = {"RSA": ("n", "e"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}
_CURVES = {"EC": ("P-256",), "OKP": ("Ed25519",)}
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
MIN_RSA_BITS = 2048


def _rsa_bits(modulus: str) -> int:
    """The size of a base64url modulus in bits (0 when it does not decode)."""
    try:
        return int.from_bytes(base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))).bit_length()
    except (ValueError, binascii.Error):
        return 0


def jwks_problems(value: Any) -> list[str]:
    """What is wrong with a JSON Web Key Set to register, in words for the form; [] when fine."""
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list):
        return ['A JWKS is a JSON object with a "keys" list: {"keys": [{…}]}.']
    if len(json.dumps(value)) > MAX_JWKS_BYTES:
        return [f"The JWKS is larger than {MAX_JWKS_BYTES // 1024} KB."]
    keys = value["keys"]
    if not keys:
        return ["The JWKS has no keys."]
    if len(keys) > MAX_KEYS:
        return [f"The JWKS has more than {MAX_KEYS} keys."]
    problems = [problem for index, key in enumerate(keys, 1) for problem in _key_problems(index, key)]
    kids = [key.get("kid") for key in keys if isinstance(key, dict) and key.get("kid") is not None]
    if len(kids) != len(set(kids)):
        problems.append("Two keys have the same kid.")
    return problems


def _key_problems(index: int, key: Any) -> list[str]:
    if not isinstance(key, dict):
        return [f"Key {index} is not a JSON object."]
    kty = key.get("kty")
    if kty == "oct":
        return [f"Key {index} is a symmetric (oct) key: register public keys only."]
    if kty not in ALLOWED_KTY:
        return [f"Key {index}: kty must be one of {', '.join(ALLOWED_KTY)}."]
    private = [name for name in PRIVATE_MEMBERS if name in key]
    if private:
        return [
            f"Key {index} is a private key (it has {', '.join(private)}): register its public part "
            "only, and keep the private key with the application."
        ]
    missing = [name for name in _REQUIRED[kty] if not isinstance(key.get(name), str)]
    if missing:
        return [f"Key {index} ({kty}) lacks {', '.join(missing)}."]
    if kty == "RSA" and _rsa_bits(key["n"]) < MIN_RSA_BITS:
        return [f"Key {index}: an RSA key must have at least {MIN_RSA_BITS} bits."]
    if kty in _CURVES and key["crv"] not in _CURVES[kty]:
        return [f"Key {index}: crv must be {', '.join(_CURVES[kty])} for {kty}."]
    if key.get("use") not in (None, "sig"):
        return [f'Key {index}: use must be "sig" (or left out).']
    if not isinstance(key.get("kid", ""), str):
        return [f"Key {index}: kid must be a string."]
    return []


def local_jwks_uris_allowed() -> bool:
    """Whether a jwks_uri may be http to this machine, or resolve to a private address.

    Off by default and in production: fetching whatever address a client names would let it
    probe our network (SSRF). Tests turn it on to serve keys from a local HTTP server."""
    return bool(getattr(settings, "JWKS_URI_ALLOW_PRIVATE", False))


def jwks_uri_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be a jwks_uri, or None."""
    parts = urlsplit(uri)
    if parts.username or parts.password or parts.fragment:
        return "The JWKS URL cannot hold credentials or a fragment."
    if parts.scheme == "https" and parts.hostname:
        if not local_jwks_uris_allowed() and _is_private_literal(parts.hostname):
            return "The JWKS URL must point to a public address."
        return None
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS and local_jwks_uris_allowed():
        return None
    return "The JWKS URL must use https."


def _is_private_literal(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False  # a name: checked when it is resolved, before every fetch
