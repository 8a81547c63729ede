"""A DPoP client for tests (RFC 9449): keys, proofs (well-formed or broken on purpose), and
token and resource requests that carry them."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.test import Client as HttpClient

from tests.oauth import ISSUER, MOBILE_CALLBACK

TOKEN_URL = f"{ISSUER}/oauth/token"


@dataclass
class DpopKey:
    """A client's key pair and the algorithm it signs proofs with."""

    algorithm: str
    private: Any

    @classmethod
    def new(cls, algorithm: str = "ES256") -> DpopKey:
        if algorithm == "ES256":
            return cls(algorithm, ec.generate_private_key(ec.SECP256R1()))
        if algorithm == "EdDSA":
            return cls(algorithm, ed25519.Ed25519PrivateKey.generate())
        return cls(algorithm, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @property
    def public_jwk(self) -> dict[str, Any]:
        return self._jwk(private=False)

    @property
    def private_jwk(self) -> dict[str, Any]:
        return self._jwk(private=True)

    def _jwk(self, *, private: bool) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        key = self.private if private else self.private.public_key()
        return json.loads(algorithm.to_jwk(key))

    @property
    def thumbprint(self) -> str:
        members = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}
        key = self._jwk(private=False)
        canonical = json.dumps({name: key[name] for name in members[key["kty"]]}, separators=(",", ":"))
        return _b64(hashlib.sha256(canonical.encode()).digest())

    def proof(
        self,
        *,
        htm: str = "POST",
        htu: str = TOKEN_URL,
        access_token: str | None = None,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A proof; ``header`` and ``claims`` override (a value of None removes the member)."""
        body: dict[str, Any] = {"jti": str(uuid.uuid4()), "htm": htm, "htu": htu, "iat": int(time.time())}
        if access_token is not None:
            body["ath"] = ath(access_token)
        body = _merged(body, claims)
        headers = _merged({"typ": "dpop+jwt", "jwk": self._jwk(private=False)}, header or {})
        return jwt.encode(body, self.private, algorithm=self.algorithm, headers=headers)


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **overrides}
    return {name: value for name, value in merged.items() if value is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ath(access_token: str) -> str:
    return _b64(hashlib.sha256(access_token.encode()).digest())


def token_request(data: dict[str, str], proof: str | None = None, authorization: str | None = None):
    """POST /oauth/token with the proof in the DPoP header."""
    headers = {"DPoP": proof, "Authorization": authorization}
    return HttpClient().post(
        "/oauth/token", data, headers={k: v for k, v in headers.items() if v is not None}
    )


def code_exchange(client_id: str, code: str, verifier: str, proof: str | None):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": MOBILE_CALLBACK,
        "client_id": client_id,
        "code_verifier": verifier,
    }
    return token_request(data, proof)


def resource_get(path: str, authorization: str, proof: str | None = None):
    headers = {"Authorization": authorization}
    if proof is not None:
        headers["DPoP"] = proof
    return HttpClient().get(path, headers=headers)
