"""Failed client authentications are counted for the client that was named, per address:
nobody can make a client's correct requests wait (issue 13, points 3 and 4)."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from accounts.models import AuditEntry
from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, basic_auth

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("steady_rate_window")]
ATTACKER, BATCH_HOST = "198.51.100.66", "192.0.2.10"


def _json_token_request(body: dict, address: str = ATTACKER):
    return HttpClient(REMOTE_ADDR=address).post(
        "/oauth/token", json.dumps(body), content_type="application/json"
    )


def test_bad_json_requests_count_against_the_client_they_name_not_everyone(public_client, settings):
    for _ in range(settings.RATE_LIMIT_CLIENT_FAILURES):
        response = _json_token_request(
            {"grant_type": "client_credentials", "client_id": "no-such-client", "client_secret": "guess"}
        )
        assert response.status_code == HTTPStatus.UNAUTHORIZED
    # The mobile app's JSON exchange, from anywhere, is judged on its own merits: a bad code
    # is invalid_grant, not 429 because of someone else's failures.
    exchange = _json_token_request(
        {"grant_type": "authorization_code", "client_id": public_client.client_id, "code": "x" * 30},
        address="203.0.113.7",
    )
    assert exchange.status_code == HTTPStatus.BAD_REQUEST
    assert exchange.json()["error"] == "invalid_grant"


def test_a_stranger_guessing_a_machines_secret_cannot_stop_its_batch_job(
    confidential_client, timesheets_api, settings
):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    body = {"grant_type": "client_credentials", "audience": TIMESHEETS_API}
    for _ in range(settings.RATE_LIMIT_CLIENT_FAILURES):
        wrong = HttpClient(REMOTE_ADDR=ATTACKER).post(
            "/oauth/token", body, HTTP_AUTHORIZATION=basic_auth(client.client_id, "wrong")
        )
        assert wrong.status_code == HTTPStatus.UNAUTHORIZED

    # The guesser waits, even with the right secret: nothing reaches the slow check from there.
    guesser = HttpClient(REMOTE_ADDR=ATTACKER).post(
        "/oauth/token", body, HTTP_AUTHORIZATION=basic_auth(client.client_id, secret)
    )
    assert guesser.status_code == HTTPStatus.TOO_MANY_REQUESTS
    # The batch job, from its own address, gets its token.
    batch = HttpClient(REMOTE_ADDR=BATCH_HOST).post(
        "/oauth/token", body, HTTP_AUTHORIZATION=basic_auth(client.client_id, secret)
    )
    assert batch.status_code == HTTPStatus.OK
    # The administrators hear of it once per window, whatever the number of failures.
    alert = AuditEntry.objects.get(action="security.client_auth_failures")
    assert alert.after is not None
    assert alert.after["client_id"] == client.client_id
    assert alert.after["last_address"] == ATTACKER


def test_an_address_trying_many_clients_is_still_slowed(confidential_client, settings):
    for index in range(3 * settings.RATE_LIMIT_CLIENT_FAILURES):
        HttpClient(REMOTE_ADDR=ATTACKER).post(
            "/oauth/token",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic_auth(f"client-{index}", "guess"),
        )
    client, secret = confidential_client
    response = HttpClient(REMOTE_ADDR=ATTACKER).post(
        "/oauth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
