"""private_key_jwt end to end: openid-client (OpenID Certified) authenticates with a signed
client assertion at the token, introspection and revocation endpoints, and the batch
client's Quickstart program (Python, PyJWT) copied from the dashboard gets a token as it is."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from http import HTTPStatus

import pytest
from cryptography.hazmat.primitives import serialization

from clients.models import Client
from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API
from tests.security.helpers import jwt_parts
from tests.security.pkjwt import KeyPair, key_client

pytestmark = pytest.mark.django_db(transaction=True)

PRIVATE_KEY_JWT = """
import * as client from 'openid-client';
import * as jose from 'jose';
const issuer = new URL(process.env.ISSUER);
const key = await jose.importJWK(JSON.parse(process.env.PRIVATE_JWK), 'ES256');
// No secret: each request carries a new assertion signed with the registered key.
const config = await client.discovery(issuer, process.env.CLIENT_ID, undefined,
  client.PrivateKeyJwt({ key, kid: process.env.KID }), { execute: [client.allowInsecureRequests] });
const metadata = config.serverMetadata();
const tokens = await client.clientCredentialsGrant(config, { audience: process.env.AUDIENCE });
const introspected = await client.tokenIntrospection(config, tokens.access_token);
await client.tokenRevocation(config, tokens.access_token);
const revoked = await client.tokenIntrospection(config, tokens.access_token);
console.log(JSON.stringify({
  methods: metadata.token_endpoint_auth_methods_supported,
  algs: metadata.token_endpoint_auth_signing_alg_values_supported,
  token_type: tokens.token_type,
  active: introspected.active,
  client_id: introspected.client_id,
  revoked_active: revoked.active,
}));
"""


@pytest.fixture
def keyed_batch(timesheets_api) -> tuple[Client, KeyPair]:
    key = KeyPair.new("ES256")
    client, _secret = key_client(Client.AppType.M2M, key)
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    return client, key


def test_openid_client_authenticates_with_private_key_jwt(run_node, live_issuer, keyed_batch):
    client, key = keyed_batch
    result = run_node(
        PRIVATE_KEY_JWT,
        ISSUER=live_issuer,
        CLIENT_ID=client.client_id,
        PRIVATE_JWK=json.dumps(key.private_jwk()),
        KID=key.kid,
        AUDIENCE=TIMESHEETS_API,
    )
    assert "private_key_jwt" in result["methods"]
    assert "ES256" in result["algs"]
    assert result["token_type"] == "bearer"
    assert result["active"] is True
    assert result["client_id"] == client.client_id
    assert result["revoked_active"] is False


def test_the_quickstart_program_gets_a_token(live_issuer, keyed_batch, staff_client, tmp_path):
    client, key = keyed_batch
    page = staff_client.get(f"/dashboard/applications/{client.pk}/?tab=quickstart")
    assert page.status_code == HTTPStatus.OK
    found = re.findall(r'<code class="language-python">(.*?)</code>', page.content.decode(), re.DOTALL)
    assert len(found) == 1, found
    program = tmp_path / "get_token.py"
    program.write_text(html.unescape(found[0]))
    pem = tmp_path / "private_key.pem"
    pem.write_bytes(
        key.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    run = subprocess.run(
        [sys.executable, str(program)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PRIVATE_KEY_FILE": str(pem)},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    _header, claims = jwt_parts(run.stdout.strip().splitlines()[-1])
    assert claims["client_id"] == client.client_id
    assert claims["aud"] == TIMESHEETS_API
    assert claims["scope"] == "read:timesheets"
