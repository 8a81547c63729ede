"""DPoP (RFC 9449) on the client side: a key pair of the app's own, kept with its tokens, and
a fresh proof JWT for every request, so a copied token is worthless without the key.

A proof names the request (``htm``, ``htu`` without query or fragment), when it was made
(``iat``), is unique (``jti``), and at a resource server carries the hash of the access token
(``ath``). A server may ask for its nonce (``use_dpop_nonce`` with a ``DPoP-Nonce`` header):
the request is made once more with that nonce in a new proof, and the nonce is kept for the
following requests to the same server.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from joserfc import jwt
from joserfc.jwk import ECKey

ALGORITHM = "ES256"
NONCE_HEADER = "DPoP-Nonce"
FORM_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _htu(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


class DpopKey:
    """The app's DPoP key (P-256, ES256) and the nonces servers gave it, by origin."""

    def __init__(self, key: ECKey) -> None:
        self.key = key
        self.nonces: dict[str, str] = {}

    @classmethod
    def generate(cls) -> DpopKey:
        return cls(ECKey.generate_key("P-256"))

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> DpopKey:
        return cls(ECKey.import_key(data))

    def to_state(self) -> dict[str, Any]:
        """The private key as a JWK, for the 0600 state file (a phone keeps it in its keystore)."""
        return dict(self.key.as_dict(private=True))

    @property
    def thumbprint(self) -> str:
        """RFC 7638: what the server binds the tokens to (``cnf.jkt``)."""
        return self.key.thumbprint()

    def proof(self, method: str, url: str, *, access_token: str | None = None) -> str:
        header = {"typ": "dpop+jwt", "alg": ALGORITHM, "jwk": dict(self.key.as_dict(private=False))}
        claims: dict[str, Any] = {
            "jti": generate_token(32),
            "htm": method.upper(),
            "htu": _htu(url),
            "iat": int(time.time()),
        }
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        nonce = self.nonces.get(_origin(url))
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode(header, claims, self.key, algorithms=[ALGORITHM])

    def remember_nonce(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        """A requests response hook: keep the ``DPoP-Nonce`` a server sends, for its origin."""
        nonce = response.headers.get(NONCE_HEADER)
        if nonce:
            self.nonces[_origin(response.url)] = nonce
        return response


def token_request(
    dpop: DpopKey | None, url: str, call: Callable[[dict[str, str] | None], dict[str, Any]]
) -> dict[str, Any]:
    """``call(headers)`` to the token endpoint: without DPoP, authlib's own headers; with it,
    a proof, and once more with a fresh proof when the server answers ``use_dpop_nonce`` (the
    response hook has kept its nonce). A token that comes back unbound is refused: the app
    asked for DPoP, and a bearer token would be usable by whoever copies it."""
    if dpop is None:
        return call(None)
    try:
        token = call({**FORM_HEADERS, "DPoP": dpop.proof("POST", url)})
    except OAuthError as error:
        if error.error != "use_dpop_nonce" or _origin(url) not in dpop.nonces:
            raise
        token = call({**FORM_HEADERS, "DPoP": dpop.proof("POST", url)})
    if str(token.get("token_type", "")).lower() != "dpop":
        raise DpopNotHonoured(f"The token endpoint answered a {token.get('token_type')} token, not DPoP.")
    return token


class DpopNotHonoured(Exception):
    """The server issued an unbound token although the app sent a proof."""


def use_dpop_nonce(response: requests.Response) -> bool:
    """A resource server's 401 asking for its nonce (RFC 9449 §9)."""
    challenge = response.headers.get("WWW-Authenticate", "")
    return response.status_code == 401 and 'error="use_dpop_nonce"' in challenge
