"""Catalogue: under load — parallel polls of one device code (RFC 8628).

Real threads, each with its own database connection, released together by a barrier. Row
locks across connections need PostgreSQL, so these run in .ci/run's second pass.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.db import connection
from oauth2_provider.models import get_access_token_model, get_device_grant_model

from clients.models import Client
from clients.services import client_update

from .test_device_flow import answer, poll, started, waited
from .test_races import _in_parallel

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs row locks across connections: runs on PostgreSQL (.ci/run's second pass)",
    ),
]


@pytest.fixture
def tv_app(public_client) -> Client:
    return client_update(client=public_client, device_code_enabled=True)


def test_10_parallel_polls_of_an_approved_code_get_its_tokens_once(tv_app, timesheets_api, user_client):
    data = started()
    answer(user_client, data["user_code"])
    waited(data["device_code"])

    results = _in_parallel(10, lambda: poll(data["device_code"]))

    statuses = sorted(status for status, _ in results)
    assert statuses == [HTTPStatus.OK] + [HTTPStatus.BAD_REQUEST] * 9
    assert {body["error"] for status, body in results if status != HTTPStatus.OK} == {"invalid_grant"}
    assert get_access_token_model().objects.count() == 1
    assert not get_device_grant_model().objects.exists()


def test_parallel_pending_polls_are_one_pending_and_the_rest_slow_down(tv_app, timesheets_api):
    data = started()
    waited(data["device_code"])

    results = _in_parallel(5, lambda: poll(data["device_code"]))

    errors = sorted(body["error"] for _, body in results)
    assert errors == ["authorization_pending"] + ["slow_down"] * 4
    assert get_device_grant_model().objects.get().interval == 5 + 4 * 5
