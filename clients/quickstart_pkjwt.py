"""The batch client's Quickstart when it authenticates with private_key_jwt: a Python program
(PyJWT and the standard library) that signs a client assertion with the application's
private key and gets a token with it. Literals are JSON strings, valid Python whatever they hold.
"""

from __future__ import annotations

import json

from django.conf import settings

from apis.models import Api

from .jwks import CLIENT_ASSERTION_TYPE
from .models import Client

# The algorithm a registered key's type signs with (the server takes RS256, PS256, ES256, EdDSA).
_ALGORITHMS = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}

_TEMPLATE = """\
# pip install "pyjwt[crypto]"    Run: PRIVATE_KEY_FILE=private_key.pem python get_token.py
import json
import os
import time
import urllib.parse
import urllib.request
import uuid

import jwt

TOKEN_ENDPOINT = {token_endpoint}
ISSUER = {issuer}
CLIENT_ID = {client_id}
AUDIENCE = {audience}
SCOPE = {scope}
# The private half of a key registered in the application's JWKS, and that key's kid.
KEY_ID = {kid}
ALGORITHM = {algorithm}
with open(os.environ["PRIVATE_KEY_FILE"], "rb") as key_file:
    PRIVATE_KEY = key_file.read()


def client_assertion() -> str:
    \"\"\"A new assertion for every request: one minute, a fresh jti (never reused).\"\"\"
    now = int(time.time())
    claims = {{
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": ISSUER,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }}
    headers = {{"kid": KEY_ID}} if KEY_ID else None
    return jwt.encode(claims, PRIVATE_KEY, algorithm=ALGORITHM, headers=headers)


form = {{
    "grant_type": "client_credentials",
    "audience": AUDIENCE,
    "client_assertion_type": {assertion_type},
    "client_assertion": client_assertion(),
}}
if SCOPE:
    form["scope"] = SCOPE
request = urllib.request.Request(TOKEN_ENDPOINT, data=urllib.parse.urlencode(form).encode())
with urllib.request.urlopen(request, timeout=10) as response:
    access_token = json.load(response)["access_token"]
print(access_token)  # send it as "Authorization: Bearer …" until expires_in seconds have passed
"""


def private_key_jwt_python(*, client: Client, api: Api, token_endpoint: str, scopes: list[str]) -> str:
    """The Python program for ``client`` to get a token for ``api`` with an assertion."""
    keys = (client.jwks or {}).get("keys") or [{}]
    first = keys[0] if isinstance(keys[0], dict) else {}
    values = {
        "token_endpoint": token_endpoint,
        "issuer": settings.OIDC_ISSUER,
        "client_id": client.client_id,
        "audience": api.identifier,
        "scope": " ".join(scopes),
        "kid": first.get("kid", "") if len(keys) == 1 else "",
        "algorithm": _ALGORITHMS.get(first.get("kty", ""), "RS256"),
        "assertion_type": CLIENT_ASSERTION_TYPE,
    }
    return _TEMPLATE.format(**{name: json.dumps(value) for name, value in values.items()})
