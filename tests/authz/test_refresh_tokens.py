"""Refresh tokens rotate, and reusing a rotated-out one kills the whole family."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from tests.oauth import Pkce, exchange, get_code

pytestmark = pytest.mark.django_db


def _refresh(client_id: str, refresh_token: str):
    return HttpClient().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
    )


def test_refresh_rotates_and_reuse_revokes_the_family(public_client, user_client, timesheets_api):
    pkce = Pkce.new()
    code = get_code(
        user_client,
        public_client.client_id,
        pkce,
        scope="openid offline_access read:timesheets",
        audience=timesheets_api.identifier,
    )
    first = exchange(user_client, public_client.client_id, code, pkce.verifier).json()["refresh_token"]

    response = _refresh(public_client.client_id, first)
    assert response.status_code == HTTPStatus.OK
    second = response.json()["refresh_token"]
    assert second != first

    replay = _refresh(public_client.client_id, first)
    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["error"] == "invalid_grant"
    # The attacker or the victim used the old token: the newest one dies too.
    assert _refresh(public_client.client_id, second).json()["error"] == "invalid_grant"
