"""openid-client (OpenID Certified) with pushed authorization requests (RFC 9126).

openid-client discovers the PAR endpoint, pushes the request (PKCE S256, state, nonce) and
builds the short authorization URL; a signed-in browser follows it and allows; openid-client
redeems the code, checking state, ``iss`` and the ID token. The same request_uri followed
again is refused.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as HttpClient

from authz.models import PushedAuthorizationRequest
from tests.oauth import LOOPBACK_CALLBACK, consent_fields

pytestmark = pytest.mark.django_db(transaction=True)

PUSH = """
import * as client from 'openid-client';
const config = await client.discovery(new URL(process.env.ISSUER), process.env.CLIENT_ID, undefined,
  client.None(), { execute: [client.allowInsecureRequests] });
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState(), nonce = client.randomNonce();
const url = await client.buildAuthorizationUrlWithPAR(config, {
  redirect_uri: process.env.CALLBACK, scope: 'openid profile email', state, nonce,
  code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
});
console.log(JSON.stringify({ url: url.href, verifier, state, nonce,
  endpoint: config.serverMetadata().pushed_authorization_request_endpoint }));
"""

REDEEM = """
import * as client from 'openid-client';
const config = await client.discovery(new URL(process.env.ISSUER), process.env.CLIENT_ID, undefined,
  client.None(), { execute: [client.allowInsecureRequests] });
const tokens = await client.authorizationCodeGrant(config, new URL(process.env.CALLBACK), {
  pkceCodeVerifier: process.env.VERIFIER, expectedState: process.env.STATE, expectedNonce: process.env.NONCE,
});
const claims = tokens.claims();
console.log(JSON.stringify({ token_type: tokens.token_type, aud: claims.aud, email: claims.email }));
"""


def test_openid_client_pushes_the_request_and_redeems_the_code(run_node, live_issuer, public_client, user):
    env = {"ISSUER": live_issuer, "CLIENT_ID": public_client.client_id}
    pushed = run_node(PUSH, **env, CALLBACK=LOOPBACK_CALLBACK)
    assert pushed["endpoint"] == f"{live_issuer}/oauth/par"
    url = urlsplit(pushed["url"])
    assert set(parse_qs(url.query)) == {"client_id", "request_uri"}  # the rest stays in the back channel
    assert PushedAuthorizationRequest.objects.count() == 1

    browser = HttpClient()
    browser.force_login(user)
    expanded = browser.get(f"{url.path}?{url.query}")
    assert expanded.status_code == HTTPStatus.FOUND
    page = browser.get(expanded["Location"])
    assert page.status_code == HTTPStatus.OK
    answer = browser.post(expanded["Location"], {**consent_fields(page), "allow": "Authorize"})
    assert answer["Location"].startswith(LOOPBACK_CALLBACK + "?")

    tokens = run_node(
        REDEEM,
        **env,
        CALLBACK=answer["Location"],
        VERIFIER=pushed["verifier"],
        STATE=pushed["state"],
        NONCE=pushed["nonce"],
    )
    assert tokens == {"token_type": "bearer", "aud": public_client.client_id, "email": user.email}
    replayed = browser.get(f"{url.path}?{url.query}")
    assert replayed.status_code == HTTPStatus.BAD_REQUEST
    assert replayed.context["error"]["error"] == "invalid_request_uri"
