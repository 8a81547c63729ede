"""openid-client (OpenID Certified) against the server: discovery and client credentials."""

from __future__ import annotations

import pytest

from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API

pytestmark = pytest.mark.django_db(transaction=True)

CLIENT_CREDENTIALS = """
import * as client from 'openid-client';
import * as jose from 'jose';
const issuer = new URL(process.env.ISSUER);
// The client authenticates as registered: HTTP Basic (client_secret_basic).
const config = await client.discovery(issuer, process.env.CLIENT_ID, undefined,
  client.ClientSecretBasic(process.env.CLIENT_SECRET), { execute: [client.allowInsecureRequests] });
const tokens = await client.clientCredentialsGrant(config, { audience: process.env.AUDIENCE });
const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
const { payload } = await jose.jwtVerify(tokens.access_token, jwks, {
  issuer: config.serverMetadata().issuer, audience: process.env.AUDIENCE });
console.log(JSON.stringify({ token_type: tokens.token_type, scope: payload.scope, sub: payload.sub }));
"""


def test_openid_client_discovers_and_gets_a_verified_machine_token(
    run_node, live_issuer, confidential_client, timesheets_api
):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    result = run_node(
        CLIENT_CREDENTIALS,
        ISSUER=live_issuer,
        CLIENT_ID=client.client_id,
        CLIENT_SECRET=secret,
        AUDIENCE=TIMESHEETS_API,
    )
    assert result == {
        "token_type": "bearer",
        "scope": "read:timesheets",
        "sub": f"{client.client_id}@clients",
    }
