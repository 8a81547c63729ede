"""The native client's DPoP (RFC 9449), against the fake provider: proofs as §4.2 describes
them, the server nonce retried once at the token endpoint and at the API, the key kept with
the tokens and used for refreshes, and an unbound token refused."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import time

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey

from tests.tools.conftest import FakeProvider
from tests.tools.test_timesheets_cli import _config, _login
from tools.timesheets_cli.api import TimesheetsClient
from tools.timesheets_cli.dpop import DpopKey
from tools.timesheets_cli.flows import login
from tools.timesheets_cli.oidc import LoginError
from tools.timesheets_cli.store import state_load, state_save


def _sign_in(provider: FakeProvider, tmp_path) -> dict:
    return _login(provider, tmp_path, dpop=DpopKey.generate())[0]


def _read(proof: str) -> tuple[dict, dict]:
    """A proof's header and claims, its signature checked with the key it carries."""
    header = json.loads(base64.urlsafe_b64decode(proof.split(".")[0] + "=="))
    token = jwt.decode(proof, ECKey.import_key(header["jwk"]), algorithms=["ES256"])
    return header, dict(token.claims)


def _thumbprint(header: dict) -> str:
    return ECKey.import_key(header["jwk"]).thumbprint()


@pytest.fixture
def dpop_provider(provider: FakeProvider) -> FakeProvider:
    provider.metadata["dpop_signing_alg_values_supported"] = ["ES256", "EdDSA", "RS256"]
    return provider


def test_login_binds_the_tokens_with_a_proof_and_retries_once_with_the_servers_nonce(dpop_provider, tmp_path):
    dpop_provider.dpop_nonce = "nonce-1"

    state = _sign_in(dpop_provider, tmp_path)

    assert len(dpop_provider.posted("/oauth/token")) == 2  # use_dpop_nonce, then the tokens
    (_, first), (_, second) = dpop_provider.proofs
    header, claims = _read(second)
    assert (header["typ"], header["alg"], header["jwk"]["kty"], header["jwk"]["crv"]) == (
        "dpop+jwt",
        "ES256",
        "EC",
        "P-256",
    )
    assert "d" not in header["jwk"]
    assert (claims["htm"], claims["htu"], claims["nonce"]) == (
        "POST",
        dpop_provider.metadata["token_endpoint"],
        "nonce-1",
    )
    assert abs(claims["iat"] - time.time()) < 10 and "ath" not in claims
    assert "nonce" not in _read(first)[1] and _read(first)[1]["jti"] != claims["jti"]
    assert state["token"]["token_type"] == "DPoP"
    assert ECKey.import_key(state["dpop_key"]).thumbprint() == _thumbprint(header)
    assert "d" in state["dpop_key"]  # the private key stays with the tokens, in the 0600 file


def test_api_calls_carry_the_dpop_scheme_and_a_proof_with_the_tokens_hash(dpop_provider, tmp_path):
    config = _config(dpop_provider, tmp_path)
    state_save(config.state_path, _sign_in(dpop_provider, tmp_path))
    key = ECKey.import_key(state_load(config.state_path)["dpop_key"]).thumbprint()  # type: ignore[index]
    dpop_provider.proofs.clear()
    dpop_provider.dpop_nonce = "nonce-api"

    TimesheetsClient(config, requests.Session()).week(datetime.date(2026, 3, 4))

    assert dpop_provider.api_authorizations == ["DPoP access-1", "DPoP access-1"]
    (_, first), (_, second) = dpop_provider.proofs
    header, claims = _read(second)
    ath = base64.urlsafe_b64encode(hashlib.sha256(b"access-1").digest()).rstrip(b"=").decode()
    assert (claims["htm"], claims["htu"], claims["ath"]) == (
        "GET",
        f"{dpop_provider.issuer}/api/timesheets",
        ath,
    )
    assert (claims["nonce"], _thumbprint(header)) == ("nonce-api", key)
    assert "nonce" not in _read(first)[1]


def test_a_refresh_is_proved_with_the_same_key(dpop_provider, tmp_path):
    config = _config(dpop_provider, tmp_path)
    state = _sign_in(dpop_provider, tmp_path)
    state["token"]["expires_at"] = 1
    state_save(config.state_path, state)
    dpop_provider.proofs.clear()

    TimesheetsClient(config, requests.Session()).week(datetime.date(2026, 3, 4))

    [(path, proof), (api_path, _)] = dpop_provider.proofs
    assert (path, api_path) == ("/oauth/token", "/api/timesheets")
    assert _thumbprint(_read(proof)[0]) == ECKey.import_key(state["dpop_key"]).thumbprint()
    assert dpop_provider.api_authorizations == ["DPoP access-2"]


def test_a_provider_without_dpop_is_refused_before_the_browser_opens(provider, tmp_path):
    with pytest.raises(LoginError, match="does not offer DPoP"):
        login(_config(provider, tmp_path), requests.Session(), show=pytest.fail, dpop=DpopKey.generate())


def test_a_bearer_token_answered_to_a_proof_is_refused(dpop_provider, tmp_path):
    dpop_provider.honour_dpop = False
    with pytest.raises(LoginError, match="answered a Bearer token, not DPoP"):
        _sign_in(dpop_provider, tmp_path)
