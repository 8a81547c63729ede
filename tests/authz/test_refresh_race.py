"""Many parallel refreshes with one refresh token: one successor, never two, never a 500."""

from __future__ import annotations

import threading
import time
from http import HTTPStatus

import pytest
from django.db import connection, transaction
from django.test import Client as HttpClient
from oauth2_provider.models import get_refresh_token_model

from accounts.checksums import token_checksum
from tests.oauth import TIMESHEETS_API, Pkce, exchange, get_code

PARALLEL = 10
RefreshToken = get_refresh_token_model()

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs row locks across connections: runs on PostgreSQL (.ci/run's second pass)",
    ),
]


def _refresh(client_id: str, token: str):
    return HttpClient().post(
        "/oauth/token", {"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id}
    )


def _wait_until_queued(count: int, seconds: float = 30) -> None:
    """Until ``count`` other sessions of this database wait for a lock."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else one snapshot per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.05)
    pytest.fail(f"{count} refreshes did not all queue on the token's row within {seconds} s")


def test_parallel_refreshes_produce_exactly_one_new_token(public_client, user_client, timesheets_api):
    pkce = Pkce.new()
    scope = "openid offline_access read:timesheets"
    code = get_code(user_client, public_client.client_id, pkce, scope=scope, audience=TIMESHEETS_API)
    refresh_token = exchange(user_client, public_client.client_id, code, pkce.verifier).json()[
        "refresh_token"
    ]

    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            response = _refresh(public_client.client_id, refresh_token)
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(PARALLEL)]
    with transaction.atomic():
        # Hold the token's row until every request has begun and queues on it: then all ten
        # are concurrent, however late a loaded machine schedules a thread. (One that began
        # after the winner had rotated the token would be a replay, rightly ending the family.)
        RefreshToken.objects.select_for_update().filter(token_checksum=token_checksum(refresh_token)).get()
        for thread in threads:
            thread.start()
        _wait_until_queued(PARALLEL)
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == PARALLEL
    assert {status for status, _ in results} <= {HTTPStatus.OK, HTTPStatus.BAD_REQUEST}
    successors = {body["refresh_token"] for status, body in results if status == HTTPStatus.OK}
    assert len(successors) == 1, results
    for status, body in results:
        if status == HTTPStatus.BAD_REQUEST:
            assert body["error"] == "invalid_grant"
        else:
            assert body["access_token"]

    # The one successor is alive and rotates as usual.
    (successor,) = successors
    assert _refresh(public_client.client_id, successor).status_code == HTTPStatus.OK
