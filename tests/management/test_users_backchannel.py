"""Blocking or deleting a person through the Management API tells their applications, as the
dashboard does: one back-channel logout token each, naming the person."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from clients.models import Client
from tests.authz.test_backchannel import Receiver
from tests.oauth import ISSUER, Pkce, exchange, get_code, jwks, verify


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def app(public_client, receiver) -> Client:
    public_client.backchannel_logout_uri = receiver.url
    public_client.backchannel_logout_session_required = True
    public_client.save()
    return public_client


@pytest.mark.parametrize(("method", "suffix"), [("POST", "/block"), ("DELETE", "")])
def test_blocking_or_deleting_tells_each_application_once(
    method, suffix, admin_api, app, user, user_client, receiver, django_capture_on_commit_callbacks
):
    pkce = Pkce.new()
    code = get_code(user_client, app.client_id, pkce, scope="openid")
    assert exchange(user_client, app.client_id, code, pkce.verifier).status_code == HTTPStatus.OK

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.send(method, f"users/{user.sub}{suffix}")

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.NO_CONTENT)
    assert len(receiver.received) == 1
    claims = verify(receiver.received[0], jwks(HttpClient()), iss=ISSUER, aud=app.client_id)
    assert claims["sub"] == str(user.sub)
    assert "sid" not in claims
