"""openid-client (OpenID Certified) with a DPoP handle against the server (RFC 9449).

A machine client that requires DPoP gets a bound token by client credentials and reads the
Timesheets API with it; a mobile app redeems a code and refreshes with its key (the
refresh token is bound to it: another key is refused) and reads /userinfo. openid-client
makes every proof and answers the server's nonce challenges itself.
"""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from clients.services import client_grant_set
from tests.oauth import LOOPBACK_CALLBACK, TIMESHEETS_API, Pkce, authorize_url, consent

pytestmark = pytest.mark.django_db(transaction=True)

MACHINE = """
import * as client from 'openid-client';
const issuer = new URL(process.env.ISSUER);
const config = await client.discovery(issuer, process.env.CLIENT_ID, undefined,
  client.ClientSecretBasic(process.env.CLIENT_SECRET), { execute: [client.allowInsecureRequests] });
const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
const tokens = await client.clientCredentialsGrant(config, { audience: process.env.AUDIENCE }, { DPoP });
const response = await client.fetchProtectedResource(
  config, tokens.access_token, new URL('/api/timesheets', issuer), 'GET', undefined, undefined, { DPoP });
// The same token as a bearer token: refused (RFC 9449 §7.2).
const asBearer = await fetch(new URL('/api/timesheets', issuer),
  { headers: { Authorization: `Bearer ${tokens.access_token}` } });
console.log(JSON.stringify({
  token_type: tokens.token_type,
  algs: config.serverMetadata().dpop_signing_alg_values_supported,
  api_status: response.status,
  bearer_status: asBearer.status,
  bearer_challenge: asBearer.headers.get('www-authenticate'),
}));
"""


def test_a_machine_client_gets_a_dpop_bound_token_and_calls_the_api_with_it(
    run_node, live_issuer, confidential_client, timesheets_api, settings
):
    client, secret = confidential_client
    client.require_dpop = True
    client.save()
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    result = run_node(
        MACHINE, ISSUER=live_issuer, CLIENT_ID=client.client_id, CLIENT_SECRET=secret, AUDIENCE=TIMESHEETS_API
    )
    assert result["token_type"] == "dpop"
    assert result["algs"] == ["ES256", "EdDSA", "Ed25519", "RS256"]
    assert result["api_status"] == 200
    assert result["bearer_status"] == 401
    assert result["bearer_challenge"].startswith('DPoP realm="abc-identity", error="invalid_token"')


CODE_AND_REFRESH = """
import * as client from 'openid-client';
const issuer = new URL(process.env.ISSUER);
const config = await client.discovery(issuer, process.env.CLIENT_ID, undefined, client.None(),
  { execute: [client.allowInsecureRequests] });
const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair(process.env.ALG));
const tokens = await client.authorizationCodeGrant(config, new URL(process.env.CALLBACK), {
  pkceCodeVerifier: process.env.VERIFIER, expectedState: process.env.STATE, expectedNonce: process.env.NONCE,
}, undefined, { DPoP });
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
const claims = await client.fetchUserInfo(config, refreshed.access_token, tokens.claims().sub, { DPoP });
let thief;
try {
  const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  await client.refreshTokenGrant(config, refreshed.refresh_token, undefined, { DPoP: other });
  thief = 'issued';
} catch (error) {
  thief = error.error;
}
console.log(JSON.stringify({
  token_type: tokens.token_type, refreshed_type: refreshed.token_type, sub: claims.sub, thief,
}));
"""


@pytest.mark.parametrize("nonces", [False, True], ids=["no-nonce", "server-nonce"])
def test_a_mobile_app_redeems_a_code_and_refreshes_with_its_dpop_key(
    run_node, live_issuer, public_client, user, timesheets_api, settings, nonces
):
    settings.DPOP_NONCE_REQUIRED = nonces
    public_client.require_dpop = True
    public_client.save()
    browser = HttpClient()
    browser.force_login(user)
    pkce = Pkce.new()
    url = authorize_url(
        public_client.client_id,
        pkce,
        redirect_uri=LOOPBACK_CALLBACK,
        scope="openid offline_access read:timesheets",
        audience=TIMESHEETS_API,
        state="state-1",
        nonce="nonce-1",
    )
    callback = consent(browser, url)["Location"]
    result = run_node(
        CODE_AND_REFRESH,
        ISSUER=live_issuer,
        CLIENT_ID=public_client.client_id,
        CALLBACK=callback,
        VERIFIER=pkce.verifier,
        STATE="state-1",
        NONCE="nonce-1",
        ALG="EdDSA" if nonces else "ES256",
    )
    assert result == {
        "token_type": "dpop",
        "refreshed_type": "dpop",
        "sub": str(user.sub),
        "thief": "invalid_grant",
    }
