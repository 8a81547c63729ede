"""A fake OpenID provider on a loopback port, for the native client's unit tests: it answers
discovery, the JWKS, the token, revocation and device endpoints with what each test sets, and
records what the client sent. The real server is exercised in tests/relying_party."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

CLIENT_ID = "timesheets-mobile"
EMPTY_PAGE: dict[str, Any] = {"next": None, "previous": None, "results": []}


class FakeProvider(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.issuer = f"http://127.0.0.1:{self.server_address[1]}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.metadata: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/oauth/token",
            "revocation_endpoint": f"{self.issuer}/oauth/revoke",
            "end_session_endpoint": f"{self.issuer}/oauth/logout",
            "device_authorization_endpoint": f"{self.issuer}/oauth/device/code",
            "jwks_uri": f"{self.issuer}/jwks",
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
        }
        # What the token endpoint answers next (status, body); by default, fresh tokens.
        self.token_answers: list[tuple[int, dict[str, Any]]] = []
        self.device_answer: tuple[int, dict[str, Any]] = (HTTPStatus.OK, {})
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.id_claims: dict[str, Any] = {}
        # The Timesheets API: what it answers next, and the Authorization header of each call.
        self.api_answers: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self.api_authorizations: list[str] = []
        self.issued = 0
        self.jwks_unavailable = 0  # how many JWKS requests answer 503 first
        # DPoP: the nonce the token endpoint and the API insist on (None: any proof), and the
        # proofs received, by path.
        self.dpop_nonce: str | None = None
        self.proofs: list[tuple[str, str]] = []
        self.honour_dpop = True  # False: a proof changes nothing, the token stays Bearer

    def id_token(self, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": CLIENT_ID, "sub": "alice", "iat": now, "exp": now + 300}
        payload |= {"email": "alice@abcinc.example", **self.id_claims, **claims}
        return jwt.encode({"alg": "RS256", "kid": "test-key"}, payload, self.key)

    def tokens(self) -> dict[str, Any]:
        self.issued += 1
        return {
            "access_token": f"access-{self.issued}",
            "refresh_token": f"refresh-{self.issued}",
            "token_type": "Bearer",
            "expires_in": 3600,
            "id_token": self.id_token(),
        }

    def posted(self, path: str) -> list[dict[str, str]]:
        return [form for where, form in self.requests if where == path]


class _Handler(BaseHTTPRequestHandler):
    server: FakeProvider

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/.well-known/openid-configuration":
            self._answer(HTTPStatus.OK, self.server.metadata)
        elif path == "/jwks" and self.server.jwks_unavailable:
            self.server.jwks_unavailable -= 1
            self._answer(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "temporarily_unavailable"})
        elif path == "/jwks":
            self._answer(HTTPStatus.OK, {"keys": [self.server.key.as_dict(private=False)]})
        elif path == "/api/timesheets":
            self.server.api_authorizations.append(self.headers.get("Authorization", ""))
            if self._nonce_missing():
                challenge = 'DPoP error="use_dpop_nonce"'
                self._answer(HTTPStatus.UNAUTHORIZED, {}, self._nonce_headers(WWW_AUTHENTICATE=challenge))
                return
            answers = self.server.api_answers
            status, body, headers = answers.pop(0) if answers else (HTTPStatus.OK, EMPTY_PAGE, {})
            self._answer(status, body, headers)
        else:
            self._answer(HTTPStatus.NOT_FOUND, {})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        path = urlsplit(self.path).path
        self.server.requests.append((path, form))
        if path == "/oauth/token":
            if self._nonce_missing():
                self._answer(HTTPStatus.BAD_REQUEST, {"error": "use_dpop_nonce"}, self._nonce_headers())
                return
            answers = self.server.token_answers
            status, body = answers.pop(0) if answers else (HTTPStatus.OK, self.server.tokens())
            if "DPoP" in self.headers and "token_type" in body and self.server.honour_dpop:
                body = {**body, "token_type": "DPoP"}
            self._answer(status, body)
        elif path == "/oauth/device/code":
            self._answer(*self.server.device_answer)
        elif path == "/oauth/revoke":
            self._answer(HTTPStatus.OK, {})
        else:
            self._answer(HTTPStatus.NOT_FOUND, {})

    def _nonce_missing(self) -> bool:
        """Record the request's DPoP proof; whether it lacks the nonce the server insists on."""
        proof = self.headers.get("DPoP")
        if proof is None:
            return False
        self.server.proofs.append((urlsplit(self.path).path, proof))
        nonce = self.server.dpop_nonce
        return nonce is not None and jwt.decode(proof, _proof_key(proof)).claims.get("nonce") != nonce

    def _nonce_headers(self, **headers: str) -> dict[str, str]:
        return {
            "DPoP-Nonce": str(self.server.dpop_nonce),
            **{k.replace("_", "-"): v for k, v in headers.items()},
        }

    def log_message(self, *args: object) -> None:
        pass


def _proof_key(proof: str) -> ECKey:
    """The public key a DPoP proof carries in its header."""
    header = json.loads(base64.urlsafe_b64decode(proof.split(".")[0] + "=="))
    return ECKey.import_key(header["jwk"])


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    server = FakeProvider()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()
