"""The reference native client (tools/timesheets_cli) end to end: the CLI runs as its own
process against ``live_server`` as the issuer, Chromium does the person's part (sign-in at the
authorization endpoint, the redirect to the CLI's loopback listener), and the CLI then logs,
lists and submits time through the Timesheets API, refreshes with rotation, and signs out."""

from __future__ import annotations

import datetime
import json
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from http import HTTPStatus
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from playwright.sync_api import expect

from clients.models import Client
from timesheets.models import Entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Demo-password-2026"
ALICE = "alice@abcinc.example"


@pytest.fixture
def demo(db) -> None:
    call_command("seed_demo", "--password", PASSWORD, stdout=StringIO())


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def _command(issuer: str, state: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tools.timesheets_cli",
        "--issuer",
        issuer,
        "--state-file",
        str(state),
        *args,
    ]


def cli(issuer: str, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(issuer, state, *args), capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )


def _login(page, issuer: str, state: Path, *options: str) -> str:
    """``login --no-browser`` in its own process; Chromium opens the printed URL and signs in."""
    process = subprocess.Popen(
        _command(issuer, state, "login", "--no-browser", "--timeout", "60", *options),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        url = ""
        while not url.startswith("http"):
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else "the CLI printed no URL"
            url = line.strip()
        assert url.startswith(f"{issuer}/authorize?")
        assert "code_challenge_method=S256" in url and "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url

        page.goto(url)
        page.get_by_label("Email address").fill(ALICE)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        # The first-party app on an API that allows it skips consent; otherwise allow it.
        signed_in = page.get_by_role("heading", name="Signed in")
        expect(signed_in.or_(page.get_by_role("button", name="Allow"))).to_be_visible()
        if not signed_in.is_visible():
            page.get_by_role("button", name="Allow").click()
        expect(signed_in).to_be_visible()
        assert page.url.startswith("http://127.0.0.1:")

        output, errors = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, errors
    return output


def _saved(state: Path) -> dict:
    return json.loads(state.read_text())


def _expire_access_token(state: Path) -> None:
    data = _saved(state)
    data["token"]["expires_at"] = int(time.time()) - 10
    state.write_text(json.dumps(data))


def test_the_cli_signs_in_through_chromium_then_logs_lists_submits_refreshes_and_signs_out(
    page, live_issuer, demo, tmp_path
):
    state = tmp_path / "config" / "tokens.json"
    assert f"Signed in as {ALICE}." in _login(page, live_issuer, state)
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    signed_in = _saved(state)
    assert signed_in["token"]["refresh_token"] and signed_in["id_token"]

    today = datetime.date.today()
    logged = cli(
        live_issuer, state, "log", "--hours", "7.5", "--project", "Apollo", "--description", "Review"
    )
    assert logged.returncode == 0, logged.stderr
    entry = Entry.objects.get(worker__email=ALICE, project="Apollo")
    assert (entry.date, entry.hours, entry.notes, entry.source) == (today, Decimal("7.5"), "Review", "mobile")

    # The access token has expired: the next call refreshes first, and saves the rotated token.
    _expire_access_token(state)
    week = cli(live_issuer, state, "week")
    assert week.returncode == 0, week.stderr
    assert f"{entry.id}  {today}    7.50  draft      Apollo  Review" in week.stdout
    rotated = _saved(state)
    assert rotated["token"]["refresh_token"] != signed_in["token"]["refresh_token"]
    assert rotated["token"]["access_token"] != signed_in["token"]["access_token"]
    assert stat.S_IMODE(state.stat().st_mode) == 0o600

    submitted = cli(live_issuer, state, "submit")
    assert (submitted.returncode, submitted.stdout) == (0, "Submitted 1 entry.\n"), submitted.stderr
    entry.refresh_from_db()
    assert entry.status == Entry.Status.SUBMITTED
    again = cli(live_issuer, state, "submit")
    assert again.stdout == "Nothing to submit.\n"

    signed_out = cli(live_issuer, state, "logout", "--no-browser")
    assert signed_out.returncode == 0, signed_out.stderr
    assert "Refresh token revoked" in signed_out.stdout
    assert not state.exists()
    # The revoked refresh token is worth nothing at the token endpoint.
    refused = requests.post(
        f"{live_issuer}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": rotated["token"]["refresh_token"],
            "client_id": "timesheets-mobile",
        },
        timeout=10,
    )
    assert refused.json()["error"] == "invalid_grant"
    # RP-initiated logout with the ID token as the hint ends the browser's session too.
    end_session = signed_out.stdout.strip().splitlines()[-1]
    assert end_session.startswith(f"{live_issuer}/oauth/logout?") and "id_token_hint=" in end_session
    page.goto(end_session)
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    page.goto("/account/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    # Tokens the server no longer honours: the CLI says to sign in again (exit status 2).
    state.parent.mkdir(exist_ok=True)
    fd = os.open(state, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, json.dumps({**rotated, "token": {**rotated["token"], "expires_at": 1}}).encode())
    os.close(fd)
    stale = cli(live_issuer, state, "week")
    assert stale.returncode == 2
    assert "run `login` again" in stale.stderr


def test_with_dpop_the_tokens_are_bound_to_the_clis_key_and_useless_as_bearer_tokens(
    page, live_issuer, demo, tmp_path, settings
):
    # The server insists on its nonce: the CLI's first proof at each endpoint is refused with
    # use_dpop_nonce, and it tries once more with the nonce.
    settings.DPOP_NONCE_REQUIRED = True
    state = tmp_path / "tokens.json"
    assert f"Signed in as {ALICE}." in _login(page, live_issuer, state, "--dpop")
    signed_in = _saved(state)
    assert signed_in["token"]["token_type"] == "DPoP" and "d" in signed_in["dpop_key"]

    logged = cli(live_issuer, state, "log", "--hours", "2", "--project", "Gemini")
    assert logged.returncode == 0, logged.stderr
    assert Entry.objects.get(worker__email=ALICE, project="Gemini").source == "mobile"

    _expire_access_token(state)
    week = cli(live_issuer, state, "week")
    assert week.returncode == 0, week.stderr
    assert "Gemini" in week.stdout
    rotated = _saved(state)
    assert rotated["token"]["token_type"] == "DPoP"
    assert rotated["token"]["refresh_token"] != signed_in["token"]["refresh_token"]
    assert rotated["dpop_key"] == signed_in["dpop_key"]

    # Copied out of the state file, the access token is refused as a bearer token...
    stolen = requests.get(
        f"{live_issuer}/api/timesheets",
        headers={"Authorization": f"Bearer {rotated['token']['access_token']}"},
        timeout=10,
    )
    assert stolen.status_code == HTTPStatus.UNAUTHORIZED
    # ...and so is a refresh without a proof of the key.
    refused = requests.post(
        f"{live_issuer}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": rotated["token"]["refresh_token"],
            "client_id": "timesheets-mobile",
        },
        timeout=10,
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST


def test_device_login_the_person_types_the_code_in_chromium_and_the_cli_gets_bound_tokens(
    page, live_issuer, demo, tmp_path
):
    Client.objects.filter(client_id="timesheets-mobile").update(device_code_enabled=True)
    state = tmp_path / "tokens.json"
    process = subprocess.Popen(
        _command(live_issuer, state, "device-login", "--dpop"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        shown = [process.stdout.readline(), process.stdout.readline()]
        assert shown[0].startswith("On another device, open "), process.stderr and process.stderr.read()
        verification_uri = shown[0].removeprefix("On another device, open ").strip()
        user_code = shown[1].removeprefix("and enter the code ").strip()
        assert verification_uri == f"{live_issuer}/activate"
        assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", user_code)

        page.goto(verification_uri)
        page.get_by_label("Code shown on your device").fill(user_code.lower().replace("-", ""))
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Email address").fill(ALICE)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text(user_code)).to_be_visible()
        page.get_by_role("button", name="Allow").click()
        expect(page.get_by_role("heading", name="Device connected")).to_be_visible()

        output, errors = process.communicate(timeout=60)  # the CLI polls every 5 seconds
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, errors
    assert f"Signed in as {ALICE}." in output
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert _saved(state)["token"]["token_type"] == "DPoP"

    week = cli(live_issuer, state, "week")
    assert (week.returncode, week.stdout.splitlines()[-1]) == (0, "0 entries, 0 hours"), week.stderr
