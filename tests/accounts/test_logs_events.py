"""The logs record one event per sign-in (with a failure's reason), sign-out, token issued
(per grant type) or refused (with the OAuth error), refresh, revocation, consent and
lockout; token events are buffered in memory and written in bulk, also at exit."""

from __future__ import annotations

import os
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError
from django.test import Client as HttpClient

from accounts import events
from accounts.models import AuditEntry
from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, Pkce, client_credentials, exchange, get_code

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("steady_rate_window")]
OFFLINE = "openid offline_access read:timesheets"


@pytest.fixture(autouse=True)
def _no_events_of_other_tests():
    events.take()
    yield
    events.take()


def _login(http: HttpClient, email: str, password: str):
    return http.post("/login/", {"username": email, "password": password}, HTTP_USER_AGENT="Firefox/140")


def _one(action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


def _json(value: object) -> dict:
    assert isinstance(value, dict)
    return value


def test_sign_in_failures_carry_their_reason(user, password):
    http = HttpClient(REMOTE_ADDR="203.0.113.7")
    _login(http, "nobody@abcinc.example", password)
    _login(http, user.email, "wrong-password")
    user.is_active = False
    user.save()
    _login(http, user.email, password)

    failures = AuditEntry.objects.filter(action="security.login_failure").order_by("at", "id")
    assert [(entry.target_label, _json(entry.details)["reason"]) for entry in failures] == [
        ("nobody@abcinc.example", "unknown_person"),
        (user.email, "wrong_password"),
        (user.email, "deactivated"),
    ]
    assert {(entry.ip, entry.user_agent) for entry in failures} == {("203.0.113.7", "Firefox/140")}
    assert password not in str(list(failures.values()))


def test_sign_in_sign_out_and_lockout_are_events(user, password, settings):
    http = HttpClient()
    assert _login(http, user.email, password).status_code == HTTPStatus.FOUND
    http.post("/logout/")
    assert _one("security.login").actor_label == user.email
    assert _one("security.logout").actor_id == user.pk

    attacker = HttpClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(attacker, user.email, "wrong-password")
    assert _one("security.lockout").target_label == user.email
    _login(attacker, user.email, password)  # refused while locked
    assert AuditEntry.objects.filter(details__reason="locked_out").exists()


@pytest.fixture
def batch(confidential_client, timesheets_api) -> tuple[str, str]:
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    return client.client_id, secret


def test_client_credentials_success_and_failure(batch):
    client_id, secret = batch
    issued = client_credentials(client_id, secret, audience=TIMESHEETS_API)
    refused = client_credentials(client_id, "not-the-secret", audience=TIMESHEETS_API)
    assert (issued.status_code, refused.status_code) == (HTTPStatus.OK, HTTPStatus.UNAUTHORIZED)

    success = _one("token.issue.client_credentials")
    assert (success.client_id, success.audience, success.actor_label) == (
        client_id,
        TIMESHEETS_API,
        f"client:{client_id}",
    )
    assert _json(success.details)["scope"] == "read:timesheets"
    failure = _one("token.failure.client_credentials")
    assert _json(failure.details)["error"] == "invalid_client"
    assert (failure.client_id, failure.audience) == (client_id, TIMESHEETS_API)
    # Never a token or a secret in the log.
    stored = str(list(AuditEntry.objects.values()))
    assert issued.json()["access_token"] not in stored
    assert secret not in stored and "not-the-secret" not in stored


def test_code_refresh_revoke_and_consent_are_events(public_client, user, user_client, timesheets_api):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope=OFFLINE, audience=TIMESHEETS_API)
    issued = exchange(user_client, public_client.client_id, code, pkce.verifier)
    refresh_token = issued.json()["refresh_token"]
    refreshed = HttpClient().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": public_client.client_id},
    )
    replayed = exchange(user_client, public_client.client_id, code, pkce.verifier)
    revoked = HttpClient().post(
        "/oauth/revoke", {"token": refreshed.json()["refresh_token"], "client_id": public_client.client_id}
    )
    assert (issued.status_code, refreshed.status_code, revoked.status_code) == (200, 200, 200)
    assert replayed.status_code == HTTPStatus.BAD_REQUEST

    consent = _one("consent.grant")
    assert (consent.actor_id, consent.client_id, consent.audience) == (
        user.pk,
        public_client.client_id,
        TIMESHEETS_API,
    )
    code_event = _one("token.issue.authorization_code")
    assert (code_event.actor_id, code_event.actor_label, code_event.audience) == (
        user.pk,
        user.email,
        TIMESHEETS_API,
    )
    assert _json(code_event.details)["refresh_token_issued"] is True
    refresh_event = _one("token.issue.refresh_token")
    assert _json(refresh_event.details)["grant"] == _json(code_event.details)["grant"]
    assert _json(_one("token.failure.authorization_code").details)["error"] == "invalid_grant"
    revoke = _one("token.revoke")
    assert (revoke.client_id, _json(revoke.after)["grant"]) == (
        public_client.client_id,
        _json(code_event.details)["grant"],
    )
    stored = str(list(AuditEntry.objects.values()))
    assert code not in stored and refresh_token not in stored


def test_token_events_wait_in_memory_until_due(batch, settings):
    client_id, secret = batch
    settings.TOKEN_STATS_FLUSH_SECONDS = 3600
    client_credentials(client_id, secret, audience=TIMESHEETS_API)
    assert not AuditEntry.objects.filter(action__startswith="token.").exists()

    events.flush()
    assert AuditEntry.objects.filter(action="token.issue.client_credentials").count() == 1


def test_many_waiting_events_are_written_whatever_their_age(db, settings):
    settings.TOKEN_STATS_FLUSH_SECONDS = 3600
    for _ in range(events.FLUSH_AT):
        events.event_later(action="token.issue.client_credentials", client_id="batch", details={})
    events.flush_when_due()
    assert AuditEntry.objects.filter(client_id="batch").count() == events.FLUSH_AT


def test_a_failed_write_keeps_the_events(db, monkeypatch):
    events.event_later(action="token.failure.other", client_id="app", details={"error": "x"})
    write = events.write

    def failing(pending):
        raise DatabaseError("down")

    monkeypatch.setattr(events, "write", failing)
    events.flush_when_due()
    monkeypatch.setattr(events, "write", write)
    events.flush()
    assert AuditEntry.objects.filter(client_id="app").count() == 1


def test_the_exit_hook_writes_what_the_process_holds(db):
    events.event_later(action="token.issue.client_credentials", client_id="app", details={})
    events.flush_at_exit()
    assert AuditEntry.objects.filter(client_id="app").count() == 1


def test_a_clean_exit_runs_the_exit_hook():
    """In a process of its own: the hook is registered with atexit, so a clean exit writes."""
    script = (
        "import django; django.setup()\n"
        "from accounts import events as e\n"
        "e.write = lambda pending: print(sorted((p.action, p.client_id) for p in pending))\n"
        "e.event_later(action='token.issue.client_credentials', client_id='batch', details={})\n"
        "e.event_later(action='token.failure.refresh_token', client_id='app', details={})\n"
    )
    environment = os.environ | {"DJANGO_SETTINGS_MODULE": django_settings.SETTINGS_MODULE}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(django_settings.BASE_DIR),
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip()
        == "[('token.failure.refresh_token', 'app'), ('token.issue.client_credentials', 'batch')]"
    )


def test_a_nul_in_request_input_does_not_poison_the_batch(db):
    """Found by the token endpoint's fuzz pass on PostgreSQL: an audience holding NUL made
    every write of the batch fail (PostgreSQL stores NUL in no text or JSON column)."""
    events.event_later(action="token.failure.client_credentials", client_id="app", details={"error": "x"})
    events.event_later(
        action="token.failure.client_credentials",
        client_id="app\x00",
        audience="https://api\x00.example/",
        details={"error_description": "bad\x00", "a\x00": ["b\x00"]},
    )

    events.flush()

    written = AuditEntry.objects.filter(client_id__startswith="app").order_by("id")
    assert written.count() == 2
    last = written.last()
    assert last is not None
    assert last.audience == "https://api\ufffd.example/"
    assert last.details is not None
    assert last.details["error_description"] == "bad\ufffd"
    assert last.details["a\ufffd"] == ["b\ufffd"]


def test_text_that_only_looks_like_an_escaped_nul_is_kept_as_written():
    """NUL is replaced in the batch's JSON (one pass); a backslash followed by "u0000" in
    what a client sent is text, not NUL, and must reach the log unchanged."""
    events.event_later(
        action="token.failure.client_credentials",
        client_id="lookalike",
        details={"error_description": "\\u0000 and \\\x00"},
    )

    events.flush()

    entry = AuditEntry.objects.get(client_id="lookalike")
    assert entry.details == {"error_description": "\\u0000 and \\\ufffd"}


def test_a_device_polling_is_not_a_failure_but_its_tokens_and_refusals_are_events(db):
    from accounts.events_tokens import token_response_record

    device = "urn:ietf:params:oauth:grant-type:device_code"
    for error in ("authorization_pending", "slow_down", "expired_token"):
        token_response_record(
            grant_type=device,
            client_id="tv",
            requested_audience="",
            status=HTTPStatus.BAD_REQUEST,
            body=f'{{"error": "{error}"}}'.encode(),
        )

    events.flush()

    written = AuditEntry.objects.filter(client_id="tv")
    assert [(entry.action, (entry.details or {}).get("error")) for entry in written] == [
        ("token.failure.device_code", "expired_token")
    ]
