"""Keys and assertions for the private_key_jwt tests: an application's key pair, the public
JWK it registers, and client assertions signed (or forged) with it."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.test import Client as HttpClient

from authz.oauth.client_assertion import ASSERTION_TYPE
from clients.models import Client
from clients.services import client_create

TOKEN_ENDPOINT = "http://testserver/oauth/token"
ISSUER = "http://testserver"


@dataclass(frozen=True)
class KeyPair:
    private: Any
    alg: str
    kid: str

    @classmethod
    def new(cls, alg: str = "RS256", kid: str | None = None) -> KeyPair:
        if alg in ("RS256", "PS256"):
            private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        else:
            private = ed25519.Ed25519PrivateKey.generate()
        return cls(private, alg, kid or uuid.uuid4().hex[:12])

    def public_jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.alg)
        key = json.loads(algorithm.to_jwk(self.private.public_key()))
        return {**key, "kid": self.kid, "use": "sig"}

    def private_jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.alg)
        return {**json.loads(algorithm.to_jwk(self.private)), "kid": self.kid}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        """``claims`` signed; a header entry of None is left out (``kid=None``: no kid)."""
        headers = {name: value for name, value in {"kid": self.kid, **header}.items() if value is not None}
        return jwt.encode(claims, self.private, algorithm=self.alg, headers=headers)


def claims_for(client_id: str, **overrides: Any) -> dict[str, Any]:
    """Good assertion claims; an override of None leaves that claim out."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": ISSUER,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def assertion_params(assertion: str, **extra: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion, **extra}


def key_client(app_type: str, key: KeyPair | None, **fields: Any) -> tuple[Client, str | None]:
    """An application that authenticates with private_key_jwt, registering ``key``'s JWKS."""
    extra = {"jwks": key.jwks()} if key is not None else {}
    return client_create(
        app_type=app_type,
        name=f"Keyed {app_type} (test)",
        token_endpoint_auth_method=Client.AuthMethod.PRIVATE_KEY_JWT,
        **{**extra, **fields},
    )


def post(path: str, data: dict[str, str], **headers: Any):
    return HttpClient().post(path, data, **headers)
