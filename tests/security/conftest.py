"""Fixtures for the security catalogue's tests: more clients for attackers and victims."""

from __future__ import annotations

import pytest

from clients.models import Client
from clients.services import client_create

from .helpers import OTHER_CALLBACK, WEB_CALLBACK


@pytest.fixture
def web_client(db) -> tuple[Client, str]:
    """A regular web app (confidential, HTTP Basic) and its secret; PKCE is optional for it."""
    client, secret = client_create(
        app_type=Client.AppType.REGULAR_WEB,
        name="Relying Party (test)",
        client_id="test-web",
        redirect_uris=[WEB_CALLBACK],
    )
    assert secret is not None
    return client, secret


@pytest.fixture
def other_public_client(db) -> Client:
    """Another native app, with a private-use scheme of its own: the attacker's app."""
    client, _ = client_create(
        app_type=Client.AppType.NATIVE,
        name="Other App (test)",
        client_id="test-other",
        redirect_uris=[OTHER_CALLBACK],
    )
    return client


@pytest.fixture
def other_confidential_client(db) -> tuple[Client, str]:
    """A second machine client with valid credentials of its own."""
    client, secret = client_create(
        app_type=Client.AppType.M2M, name="Other Batch (test)", client_id="test-other-batch"
    )
    assert secret is not None
    return client, secret
