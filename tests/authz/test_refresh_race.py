"""Many parallel refreshes with one refresh token: one successor, never two, never a 500."""

from __future__ import annotations

import threading
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client as HttpClient

from tests.oauth import TIMESHEETS_API, Pkce, exchange, get_code

PARALLEL = 10

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


def test_parallel_refreshes_produce_exactly_one_new_token(public_client, user_client, timesheets_api):
    pkce = Pkce.new()
    scope = "openid offline_access read:timesheets"
    code = get_code(user_client, public_client.client_id, pkce, scope=scope, audience=TIMESHEETS_API)
    refresh_token = exchange(user_client, public_client.client_id, code, pkce.verifier).json()[
        "refresh_token"
    ]

    barrier = threading.Barrier(PARALLEL)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            response = _refresh(public_client.client_id, refresh_token)
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
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
