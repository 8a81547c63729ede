"""Catalogue: under load — parallel redemptions of one code, parallel refreshes of one token.

Real threads, each with its own database connection, released together by a barrier. Row
locks across connections need PostgreSQL, so these run in .ci/run's second pass. See also
tests/authz/test_refresh_race.py.
"""

from __future__ import annotations

import hashlib
import threading
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client as HttpClient
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from authz.models import AccessTokenRecord
from tests.oauth import MOBILE_CALLBACK, TIMESHEETS_API, Pkce, get_code

from .helpers import SCOPE, refresh, sign_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs row locks across connections: runs on PostgreSQL (.ci/run's second pass)",
    ),
]
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()


def _checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _in_parallel(count: int, send) -> list[tuple[int, dict]]:
    """Run ``send()`` in ``count`` threads released at once; every status and JSON body."""
    barrier = threading.Barrier(count)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            response = send()
            body = response.json() if response["Content-Type"] == "application/json" else {}
            with lock:
                results.append((response.status_code, body))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == count, "a request hung or crashed its thread"
    return results


def test_10_parallel_redemptions_of_one_code_give_exactly_one_200_and_no_orphan_tokens(
    public_client, user_client, timesheets_api
):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": MOBILE_CALLBACK,
        "client_id": public_client.client_id,
        "code_verifier": pkce.verifier,
    }
    results = _in_parallel(10, lambda: HttpClient(raise_request_exception=False).post("/oauth/token", data))

    statuses = sorted(status for status, _ in results)
    assert statuses == [HTTPStatus.OK] + [HTTPStatus.BAD_REQUEST] * 9, statuses
    (winner,) = [body for status, body in results if status == HTTPStatus.OK]
    for status, body in results:
        if status == HTTPStatus.BAD_REQUEST:
            assert body["error"] == "invalid_grant"
            assert not {"access_token", "refresh_token", "id_token"} & set(body)

    # No orphans: whatever exists was handed to the one winner.
    assert set(AccessToken.objects.values_list("token_checksum", flat=True)) <= {
        _checksum(winner["access_token"])
    }
    assert set(RefreshToken.objects.values_list("token_checksum", flat=True)) <= {
        _checksum(winner["refresh_token"])
    }
    assert AccessTokenRecord.objects.count() <= 1


def test_20_parallel_refreshes_never_give_two_distinct_valid_successors(
    public_client, user_client, timesheets_api
):
    tokens = sign_in(user_client, public_client.client_id)
    access_tokens_before = AccessToken.objects.count()
    results = _in_parallel(
        20,
        lambda: HttpClient(raise_request_exception=False).post(
            "/oauth/token",
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": "test-mobile",
            },
        ),
    )

    statuses = {status for status, _ in results}
    assert statuses <= {HTTPStatus.OK, HTTPStatus.BAD_REQUEST}, statuses  # never a 500
    successors = {body["refresh_token"] for status, body in results if status == HTTPStatus.OK}
    assert len(successors) == 1, results
    for status, body in results:
        if status == HTTPStatus.BAD_REQUEST:
            assert body["error"] == "invalid_grant"
            assert "access_token" not in body

    # Exactly one new access token and one live refresh token were minted.
    assert AccessToken.objects.count() <= access_tokens_before + 1
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1
    (successor,) = successors
    assert refresh(public_client.client_id, successor).status_code == HTTPStatus.OK
