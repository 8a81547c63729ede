"""Access tokens issued are counted per UTC day, grant type, audience and client: in memory on
the token endpoint, added to the table in increments, and never for a refused request."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, date, datetime
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError, connection
from django.test import Client as HttpClient

from authz.models import TokenIssuance
from authz.oauth import issuance_counts, validators, views
from authz.oauth.issuance_counts import IssuanceKey
from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, Pkce, client_credentials, exchange, get_code

OFFLINE = "openid offline_access read:timesheets"


@pytest.fixture(autouse=True)
def _no_counts_of_other_tests():
    """The counts live in the process: start without those earlier tests left."""
    issuance_counts.take()
    yield
    issuance_counts.take()


@pytest.fixture
def batch(confidential_client, timesheets_api) -> tuple[str, str]:
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    return client.client_id, secret


def _table() -> dict[tuple[str, str, str], int]:
    """(grant type, audience, client) -> count, for today, as written to the database."""
    today = datetime.now(UTC).date()
    return {
        (row.grant_type, row.audience, row.client_id): row.count
        for row in TokenIssuance.objects.filter(day=today)
    }


def _counted() -> dict[tuple[str, str, str], int]:
    issuance_counts.flush()
    return _table()


def _refresh(client_id: str, refresh_token: str):
    return HttpClient().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
    )


def test_client_credentials_tokens_are_counted_with_no_query(batch, django_assert_num_queries):
    client_id, secret = batch
    client_credentials(client_id, secret, audience=TIMESHEETS_API)  # warms the caches

    with django_assert_num_queries(0):
        issuance_counts.count(grant_type="client_credentials", audience=TIMESHEETS_API, client_id=client_id)
    response = client_credentials(client_id, secret, audience=TIMESHEETS_API)

    assert response.status_code == HTTPStatus.OK
    assert _counted() == {("client_credentials", TIMESHEETS_API, client_id): 3}


def test_the_generic_client_credentials_path_counts_too(
    batch, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(views, "fast_client_credentials", lambda request: None)
    client_id, secret = batch

    with django_capture_on_commit_callbacks(execute=True):
        response = client_credentials(client_id, secret, audience=TIMESHEETS_API)

    assert response.status_code == HTTPStatus.OK
    assert _counted() == {("client_credentials", TIMESHEETS_API, client_id): 1}


def test_refused_client_credentials_count_nothing(batch, monkeypatch, django_capture_on_commit_callbacks):
    client_id, secret = batch
    with django_capture_on_commit_callbacks(execute=True):
        refused = [
            client_credentials(client_id, "wrong-secret", audience=TIMESHEETS_API),
            client_credentials(client_id, secret, audience="https://unknown.example/api"),
            client_credentials(client_id, secret, audience=TIMESHEETS_API, scope="delete:timesheets"),
        ]

    assert [response.status_code for response in refused] == [
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.FORBIDDEN,
    ], [response.content for response in refused]
    assert _counted() == {}


def test_code_and_refresh_tokens_are_counted_by_grant(
    public_client, user_client, timesheets_api, django_capture_on_commit_callbacks
):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope=OFFLINE, audience=TIMESHEETS_API)
    with django_capture_on_commit_callbacks(execute=True):
        issued = exchange(user_client, public_client.client_id, code, pkce.verifier)
        refreshed = _refresh(public_client.client_id, issued.json()["refresh_token"])
        replayed = exchange(user_client, public_client.client_id, code, pkce.verifier)
        reused = _refresh(public_client.client_id, issued.json()["refresh_token"])

    assert (issued.status_code, refreshed.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert (replayed.status_code, reused.status_code) == (HTTPStatus.BAD_REQUEST, HTTPStatus.BAD_REQUEST)
    assert _counted() == {
        ("authorization_code", TIMESHEETS_API, public_client.client_id): 1,
        ("refresh_token", TIMESHEETS_API, public_client.client_id): 1,
    }


def test_a_redemption_that_fails_after_minting_counts_nothing(
    public_client, user_client, timesheets_api, monkeypatch, django_capture_on_commit_callbacks
):
    """The token was signed, but the redemption rolled back: it was never issued."""
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope=OFFLINE, audience=TIMESHEETS_API)

    def broken(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(validators, "code_redeemed", broken)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DatabaseError):
        exchange(user_client, public_client.client_id, code, pkce.verifier)

    assert _counted() == {}


def test_counts_wait_in_the_process_until_they_are_due(batch, settings):
    client_id, secret = batch
    settings.TOKEN_STATS_FLUSH_SECONDS = 3600
    client_credentials(client_id, secret, audience=TIMESHEETS_API)

    assert _table() == {}

    settings.TOKEN_STATS_FLUSH_SECONDS = 0  # the request after this one finds them due
    client_credentials(client_id, secret, audience=TIMESHEETS_API)

    assert _table() == {("client_credentials", TIMESHEETS_API, client_id): 2}


def test_flushes_add_up(db):
    key = {"grant_type": "client_credentials", "audience": TIMESHEETS_API, "client_id": "batch"}
    issuance_counts.count(**key)
    issuance_counts.flush()
    issuance_counts.count(**key)
    issuance_counts.count(**key)
    issuance_counts.count(**(key | {"audience": ""}))
    issuance_counts.flush()
    issuance_counts.flush()  # nothing left: adds nothing

    assert _table() == {
        ("client_credentials", TIMESHEETS_API, "batch"): 3,
        ("client_credentials", "", "batch"): 1,
    }


def test_a_failed_write_keeps_the_counts_for_the_next(db, monkeypatch, settings):
    settings.TOKEN_STATS_FLUSH_SECONDS = 0
    issuance_counts.count(grant_type="refresh_token", audience=TIMESHEETS_API, client_id="app")
    write = issuance_counts.write

    def unreachable(counts):
        raise DatabaseError("the database is unreachable")

    monkeypatch.setattr(issuance_counts, "write", unreachable)
    with pytest.raises(DatabaseError):
        issuance_counts.flush()
    issuance_counts.flush_when_due()  # due (0 s): fails again, logged, not raised
    monkeypatch.setattr(issuance_counts, "write", write)

    assert _counted() == {("refresh_token", TIMESHEETS_API, "app"): 1}


def test_the_exit_hook_writes_what_the_process_holds(db):
    issuance_counts.count(grant_type="authorization_code", audience="", client_id="app")

    issuance_counts.flush_at_exit()

    assert _table() == {("authorization_code", "", "app"): 1}


def test_a_clean_exit_runs_the_exit_hook():
    """In a process of its own: the hook is registered with atexit, so a clean exit writes."""
    script = (
        "import django; django.setup()\n"
        "from authz.oauth import issuance_counts as c\n"
        "c.write = lambda counts: print(sorted((k.grant_type, k.client_id, n) for k, n in counts.items()))\n"
        "c.count(grant_type='client_credentials', audience='', client_id='batch')\n"
        "c.count(grant_type='client_credentials', audience='', client_id='batch')\n"
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
    assert done.stdout.strip() == "[('client_credentials', 'batch', 2)]"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent writers on separate connections: runs on PostgreSQL (.ci/run's second pass)",
)
def test_parallel_writes_to_one_row_lose_no_increment():
    """Processes write the same new row at once: the first creates it, the others add."""
    parallel, rounds = 8, 5
    key = IssuanceKey(date(2026, 3, 1), "client_credentials", TIMESHEETS_API, "batch")
    barrier = threading.Barrier(parallel)
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(rounds):
                barrier.wait()
                issuance_counts.write(Counter({key: 2}))
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert TokenIssuance.objects.get(**key._asdict()).count == parallel * rounds * 2
