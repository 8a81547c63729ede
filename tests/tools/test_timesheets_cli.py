"""The reference native client's checks, against a fake provider (tests/tools/conftest.py):
PKCE S256, state and RFC 9207 iss, ID token verification, the device flow's polling rules,
refresh with rotation, the state file's permissions, and sign-out."""

from __future__ import annotations

import ast
import base64
import datetime
import hashlib
import json
import re
import stat
from http import HTTPStatus
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey

from tests.tools.conftest import CLIENT_ID, FakeProvider
from tools.timesheets_cli.api import TimesheetsClient, week_of
from tools.timesheets_cli.cli import main, session
from tools.timesheets_cli.device import device_login, device_poll
from tools.timesheets_cli.dpop import DpopKey
from tools.timesheets_cli.flows import DEFAULT_SCOPE, Config, SignInNeeded, login, refresh
from tools.timesheets_cli.oidc import LoginError, authorization_code
from tools.timesheets_cli.store import StateError, state_load, state_save

AUDIENCE = "https://timesheets.abcinc.example/api"


def _config(provider: FakeProvider, tmp_path: Path) -> Config:
    return Config(
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        audience=AUDIENCE,
        api=f"{provider.issuer}/api",
        scope=DEFAULT_SCOPE,
        state_path=tmp_path / "abc" / "tokens.json",
    )


def _login(
    provider: FakeProvider,
    tmp_path: Path,
    http: requests.Session | None = None,
    dpop: DpopKey | None = None,
    **response: str | None,
) -> tuple[dict, dict[str, str]]:
    """Sign in, playing the browser: the provider "redirects" to the loopback listener with a
    code, the request's state and the issuer, each replaced by ``response`` when given there."""
    sent: dict[str, str] = {}

    def browser(url: str) -> None:
        sent.update(parse_qsl(urlsplit(url).query))
        provider.id_claims = {"nonce": sent["nonce"], **provider.id_claims}
        params = {"code": "the-code", "state": sent["state"], "iss": provider.issuer, **response}
        requests.get(
            sent["redirect_uri"], params={k: v for k, v in params.items() if v is not None}, timeout=5
        )

    config = _config(provider, tmp_path)
    return login(config, http or requests.Session(), show=browser, timeout=5, dpop=dpop), sent


def test_login_sends_the_s256_challenge_of_the_verifier_it_redeems(provider, tmp_path):
    state, sent = _login(provider, tmp_path)

    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/callback", sent["redirect_uri"])
    assert (sent["response_type"], sent["client_id"], sent["code_challenge_method"]) == (
        "code",
        CLIENT_ID,
        "S256",
    )
    assert (sent["scope"], sent["resource"]) == (DEFAULT_SCOPE, AUDIENCE)
    [redeemed] = provider.posted("/oauth/token")
    verifier = redeemed["code_verifier"]
    assert 43 <= len(verifier) <= 128
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert sent["code_challenge"] == challenge
    assert redeemed | {"code_verifier": ""} == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": sent["redirect_uri"],
        "client_id": CLIENT_ID,
        "code_verifier": "",
    }
    assert state["token"]["refresh_token"] == "refresh-1"
    assert (state["email"], state["subject"], state["issuer"]) == (
        "alice@abcinc.example",
        "alice",
        provider.issuer,
    )


def test_every_sign_in_has_its_own_verifier_state_and_nonce(provider, tmp_path):
    _, first = _login(provider, tmp_path)
    provider.id_claims = {}
    _, second = _login(provider, tmp_path)
    for name in ("state", "nonce", "code_challenge"):
        assert first[name] != second[name]
    assert first["redirect_uri"] != second["redirect_uri"]  # a new port each time


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        ({"state": "forged"}, "state is not the one this sign-in sent"),
        ({"state": None}, "state is not the one this sign-in sent"),
        ({"iss": "https://evil.example"}, "mix-up"),
        ({"iss": None}, "no iss although the provider always sends one"),
        ({"code": None, "error": "access_denied"}, "not completed: access_denied"),
        ({"code": None}, "no authorization code"),
    ],
    ids=["wrong-state", "no-state", "wrong-iss", "no-iss", "error", "no-code"],
)
def test_a_response_that_fails_a_check_is_refused_before_the_code_is_redeemed(
    provider, tmp_path, response, reason
):
    with pytest.raises(LoginError, match=reason):
        _login(provider, tmp_path, **response)
    assert provider.posted("/oauth/token") == []


def test_an_error_from_another_issuer_is_reported_as_a_mix_up_not_as_its_error():
    with pytest.raises(LoginError, match="mix-up"):
        authorization_code(
            {"state": "s", "iss": "https://evil.example", "error": "login_required"},
            state="s",
            issuer="https://id.example",
            iss_required=False,
        )


def test_without_iss_support_advertised_a_response_without_iss_is_accepted(provider, tmp_path):
    provider.metadata["authorization_response_iss_parameter_supported"] = False
    state, _ = _login(provider, tmp_path, iss=None)
    assert state["token"]["access_token"] == "access-1"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"nonce": "another"}, "nonce"),
        ({"aud": "another-app"}, "aud"),
        ({"iss": "https://evil.example"}, "iss"),
        ({"exp": 1_000_000}, "expired"),
        ({"aud": [CLIENT_ID, "another-app"]}, "azp"),
    ],
    ids=["nonce", "aud", "iss", "exp", "azp"],
)
def test_an_id_token_that_fails_a_check_is_refused(provider, tmp_path, claims, reason):
    provider.id_claims = claims
    with pytest.raises(LoginError, match=reason):
        _login(provider, tmp_path)


def test_an_id_token_signed_with_another_key_is_refused(provider, tmp_path):
    provider.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
    genuine = provider.key.as_dict(private=False)
    provider.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
    provider.metadata["jwks_uri"] = f"{provider.issuer}/other-jwks"
    assert genuine  # the JWKS the client fetches (404 here) never holds the signing key
    with pytest.raises(LoginError, match="could not be verified"):
        _login(provider, tmp_path)


def test_a_read_answered_503_is_tried_again(provider, tmp_path):
    provider.jwks_unavailable = 2
    state, _ = _login(provider, tmp_path, http=session())
    assert state["token"]["access_token"] == "access-1"
    assert provider.jwks_unavailable == 0


def test_discovery_that_names_another_issuer_is_refused(provider, tmp_path):
    provider.metadata["issuer"] = "https://evil.example"
    with pytest.raises(LoginError, match="names another issuer"):
        _login(provider, tmp_path)


DEVICE = {
    "device_code": "the-device-code",
    "user_code": "WDJB-MJHT",
    "verification_uri": "https://id.example/activate",
    "expires_in": 600,
    "interval": 2,
}


def _pending(error: str) -> tuple[int, dict[str, Any]]:
    return HTTPStatus.BAD_REQUEST, {"error": error}


def test_device_login_polls_at_the_interval_and_slows_down_for_good(provider, tmp_path):
    provider.device_answer = (HTTPStatus.OK, DEVICE)
    provider.token_answers = [
        _pending("authorization_pending"),
        _pending("slow_down"),
        _pending("authorization_pending"),
    ]
    waits: list[float] = []
    shown: list[dict] = []

    state = device_login(
        _config(provider, tmp_path), requests.Session(), show=shown.append, sleep=waits.append
    )

    assert waits == [2, 2, 7, 7]
    assert shown == [DEVICE]
    [asked] = provider.posted("/oauth/device/code")
    assert asked == {"client_id": CLIENT_ID, "scope": DEFAULT_SCOPE, "resource": AUDIENCE}
    polls = provider.posted("/oauth/token")
    assert len(polls) == 4
    assert polls[0] == {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": "the-device-code",
        "client_id": CLIENT_ID,
    }
    assert (state["email"], state["token"]["refresh_token"]) == ("alice@abcinc.example", "refresh-1")


@pytest.mark.parametrize(
    ("error", "reason"),
    [("access_denied", "denied"), ("expired_token", "expired"), ("invalid_grant", "refused")],
)
def test_device_login_stops_when_the_person_denies_or_the_code_expires(provider, tmp_path, error, reason):
    provider.device_answer = (HTTPStatus.OK, DEVICE)
    provider.token_answers = [_pending("authorization_pending"), _pending(error)]
    with pytest.raises(LoginError, match=reason):
        device_login(
            _config(provider, tmp_path), requests.Session(), show=lambda _: None, sleep=lambda _: None
        )
    assert len(provider.posted("/oauth/token")) == 2


def test_device_polling_stops_when_the_code_expires_on_our_clock(provider, tmp_path):
    provider.token_answers = [_pending("authorization_pending")] * 10
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(LoginError, match="expired"):
        device_poll(
            _config(provider, tmp_path),
            requests.Session(),
            provider.metadata,
            {**DEVICE, "expires_in": 5},
            sleep=sleep,
            clock=lambda: now[0],
        )
    assert len(provider.posted("/oauth/token")) == 2  # at 2 s and 4 s; at 6 s the code is gone


def test_device_login_needs_the_providers_device_endpoint(provider, tmp_path):
    del provider.metadata["device_authorization_endpoint"]
    with pytest.raises(LoginError, match="does not offer the device flow"):
        device_login(_config(provider, tmp_path), requests.Session(), show=lambda _: None)


def test_a_refused_device_authorization_request_says_why(provider, tmp_path):
    provider.device_answer = (HTTPStatus.UNAUTHORIZED, {"error": "invalid_client"})
    with pytest.raises(LoginError, match="refused: invalid_client"):
        device_login(_config(provider, tmp_path), requests.Session(), show=lambda _: None)


def _signed_in(provider: FakeProvider, tmp_path: Path, **token: Any) -> Config:
    config = _config(provider, tmp_path)
    state, _ = _login(provider, tmp_path)
    state["token"] |= token
    state_save(config.state_path, state)
    return config


def test_an_expired_access_token_is_refreshed_first_and_the_rotated_token_saved(provider, tmp_path):
    config = _signed_in(provider, tmp_path, expires_at=1)

    TimesheetsClient(config, requests.Session()).week(datetime.date(2026, 3, 4))

    [_, refreshed] = provider.posted("/oauth/token")
    assert refreshed == {"grant_type": "refresh_token", "refresh_token": "refresh-1", "client_id": CLIENT_ID}
    assert provider.api_authorizations == ["Bearer access-2"]
    saved = state_load(config.state_path)
    assert saved is not None and saved["token"]["refresh_token"] == "refresh-2"
    assert stat.S_IMODE(config.state_path.stat().st_mode) == 0o600


def test_an_access_token_the_api_calls_invalid_is_refreshed_once_and_the_call_repeated(provider, tmp_path):
    config = _signed_in(provider, tmp_path)
    challenge = {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'}
    provider.api_answers = [(HTTPStatus.UNAUTHORIZED, {"detail": "revoked"}, challenge)]

    assert TimesheetsClient(config, requests.Session()).week(datetime.date(2026, 3, 4)) == []
    assert provider.api_authorizations == ["Bearer access-1", "Bearer access-2"]


def test_a_refreshed_id_token_about_someone_else_ends_the_sign_in(provider, tmp_path, capsys):
    config = _signed_in(provider, tmp_path, expires_at=1)
    provider.id_claims = {"sub": "mallory"}

    arguments = ["--issuer", provider.issuer, "--state-file", str(config.state_path), "week"]

    assert main(arguments, out=StringIO()) == 2
    assert "about someone else" in capsys.readouterr().err
    assert provider.api_authorizations == []


def test_a_refused_refresh_asks_the_person_to_sign_in_again(provider, tmp_path, capsys):
    config = _signed_in(provider, tmp_path, expires_at=1)
    provider.token_answers = [(HTTPStatus.BAD_REQUEST, {"error": "invalid_grant"})]
    out = StringIO()

    status = main(["--issuer", provider.issuer, "--state-file", str(config.state_path), "week"], out=out)

    assert status == 2
    assert "The sign-in has ended (invalid_grant): run `login` again." in capsys.readouterr().err
    assert provider.api_authorizations == []
    with pytest.raises(SignInNeeded, match="run `login` again"):
        refresh(config, requests.Session(), {"token": {}, "endpoints": provider.metadata})


def test_logout_revokes_the_refresh_token_forgets_it_and_gives_the_end_session_url(provider, tmp_path):
    config = _signed_in(provider, tmp_path)
    id_token = json.loads(config.state_path.read_text())["id_token"]
    out = StringIO()

    status = main(
        ["--issuer", provider.issuer, "--state-file", str(config.state_path), "logout", "--no-browser"],
        out=out,
    )

    assert status == 0
    assert provider.posted("/oauth/revoke") == [
        {"token": "refresh-1", "token_type_hint": "refresh_token", "client_id": CLIENT_ID}
    ]
    assert not config.state_path.exists()
    url = out.getvalue().splitlines()[-1]
    assert url.startswith(f"{provider.issuer}/oauth/logout?")
    assert dict(parse_qsl(urlsplit(url).query)) == {"client_id": CLIENT_ID, "id_token_hint": id_token}


def test_the_state_file_is_for_its_owner_only(tmp_path):
    path = tmp_path / "new" / "tokens.json"
    state_save(path, {"token": {"refresh_token": "r"}})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    path.chmod(0o644)
    with pytest.raises(StateError, match="can be read by other users"):
        state_load(path)


def test_commands_need_a_sign_in_first(tmp_path, capsys):
    assert main(["--state-file", str(tmp_path / "none.json"), "week"]) == 2
    assert "You are not signed in: run `login`" in capsys.readouterr().err


@pytest.mark.parametrize("hours", ["0", "0.3", "24.25", "seven"])
def test_hours_that_the_api_would_refuse_are_refused_before_any_call(tmp_path, capsys, hours):
    with pytest.raises(SystemExit):
        main(["--state-file", str(tmp_path / "none.json"), "log", "--hours", hours, "--project", "Apollo"])
    assert "argument --hours" in capsys.readouterr().err


def test_a_week_runs_from_monday_to_sunday():
    assert week_of(datetime.date(2026, 3, 4)) == (datetime.date(2026, 3, 2), datetime.date(2026, 3, 8))
    assert week_of(datetime.date(2026, 3, 8)) == (datetime.date(2026, 3, 2), datetime.date(2026, 3, 8))


OUR_APPS = {"accounts", "apis", "clients", "authz", "timesheets", "config", "django", "rest_framework"}


def test_the_client_imports_nothing_of_the_server():
    """A client like any other: HTTP only, so what it does a third party can do too."""
    imported = set()
    for path in (Path(__file__).resolve().parents[2] / "tools").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                imported.add(node.module.split(".")[0])
    assert imported & OUR_APPS == set()
    assert {"authlib", "requests", "joserfc"} <= imported
