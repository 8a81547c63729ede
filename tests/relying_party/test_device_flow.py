"""openid-client (OpenID Certified) runs the device flow against the server: it starts with
initiateDeviceAuthorization and polls with pollDeviceAuthorizationGrant in the background,
while the person (Django's test client) types the code at /activate, signs in and allows it.
openid-client validates the ID token; jose verifies the access token."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import Client as HttpClient

from clients.services import client_update
from tests.oauth import TIMESHEETS_API

from .conftest import NODE_MODULES, _missing

pytestmark = pytest.mark.django_db(transaction=True)

DEVICE_FLOW = """
import * as client from 'openid-client';
import * as jose from 'jose';
const config = await client.discovery(new URL(process.env.ISSUER), process.env.CLIENT_ID, undefined,
  client.None(), { execute: [client.allowInsecureRequests] });
const started = await client.initiateDeviceAuthorization(config,
  { scope: 'openid profile offline_access', audience: process.env.AUDIENCE });
// The person's part: the test reads this line and approves the code.
console.log(JSON.stringify({ user_code: started.user_code, verification_uri: started.verification_uri }));
const tokens = await client.pollDeviceAuthorizationGrant(config, started);
const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
const { payload } = await jose.jwtVerify(tokens.access_token, jwks, {
  issuer: config.serverMetadata().issuer, audience: process.env.AUDIENCE });
const idToken = tokens.claims();
console.log(JSON.stringify({ sub: idToken.sub, aud: idToken.aud, amr: idToken.amr, name: idToken.name,
  scope: payload.scope, client_id: payload.client_id, refresh: Boolean(tokens.refresh_token) }));
"""


def _node(tmp_path: Path, **env: str) -> subprocess.Popen:
    node = shutil.which("node")
    if node is None or not (NODE_MODULES / "openid-client").exists():
        _missing("node and openid-client are needed: `make node-deps` installs them")
    (tmp_path / "node_modules").symlink_to(NODE_MODULES)
    script = tmp_path / "device.mjs"
    script.write_text(DEVICE_FLOW)
    return subprocess.Popen(
        [node, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        cwd=tmp_path,
    )


def _allow(user, user_code: str) -> None:
    """The person: types the code at /activate, signed in, and allows the device."""
    http = HttpClient()
    http.force_login(user)
    entered = http.post("/activate", {"user_code": user_code})
    assert entered.status_code == HTTPStatus.FOUND, entered.content
    assert http.get(entered["Location"]).status_code == HTTPStatus.OK
    assert b"Device connected" in http.post(entered["Location"], {"answer": "allow"}).content


def test_openid_client_gets_verified_tokens_through_the_device_flow(
    tmp_path, live_issuer, public_client, timesheets_api, user
):
    client_update(client=public_client, device_code_enabled=True)
    process = _node(tmp_path, ISSUER=live_issuer, CLIENT_ID=public_client.client_id, AUDIENCE=TIMESHEETS_API)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first, process.stderr.read() if process.stderr else ""
        started = json.loads(first)
        assert started["verification_uri"] == f"{live_issuer}/activate"
        _allow(user, started["user_code"])
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {
        "sub": str(user.sub),
        "aud": public_client.client_id,
        "amr": ["pwd"],
        "name": user.name,
        "scope": "openid profile offline_access",
        "client_id": public_client.client_id,
        "refresh": True,
    }
