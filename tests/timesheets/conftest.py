from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.test import Client as HttpClient

from accounts.models import User
from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, Pkce, client_credentials, exchange, get_code
from timesheets.models import Entry

ALL_SCOPES = "read:timesheets create:timesheets delete:timesheets approve:timesheets"
MONDAY = datetime.date(2026, 11, 16)


@pytest.fixture
def manager(db, password) -> User:
    return User.objects.create_user(email="manager@abcinc.example", password=password, name="Morgan Manager")


@pytest.fixture
def worker(manager, user) -> User:
    """Alice, who reports to the manager."""
    user.manager = manager
    user.save()
    return user


@pytest.fixture
def bob(manager, password) -> User:
    return User.objects.create_user(
        email="bob@abcinc.example", password=password, name="Bob", manager=manager
    )


@pytest.fixture
def token_for(public_client, timesheets_api) -> Callable[..., str]:
    """A real access token for ``user`` with ``scopes``, minted through the code flow."""

    def mint(user: User, scopes: str = ALL_SCOPES) -> str:
        http = HttpClient()
        http.force_login(user)
        pkce = Pkce.new()
        code = get_code(
            http, public_client.client_id, pkce, scope=f"openid {scopes}", audience=TIMESHEETS_API
        )
        return exchange(http, public_client.client_id, code, pkce.verifier).json()["access_token"]

    return mint


@pytest.fixture
def batch_token(confidential_client, timesheets_api) -> str:
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["create:timesheets", "read:timesheets"])
    return client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()["access_token"]


class Api:
    """A tiny API client that sends the bearer token the way a mobile app would."""

    def __init__(self, token: str) -> None:
        self.http = HttpClient(HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(self, path: str, **params):
        return self.http.get(path, params)

    def post(self, path: str, data=None, **extra):
        return self.http.post(path, data or {}, content_type="application/json", **extra)

    def patch(self, path: str, data):
        return self.http.patch(path, data, content_type="application/json")

    def delete(self, path: str):
        return self.http.delete(path)


@pytest.fixture
def api_as(token_for) -> Callable[..., Api]:
    return lambda user, scopes=ALL_SCOPES: Api(token_for(user, scopes))


def make_entry(
    worker: User, *, status: str = Entry.Status.DRAFT, day: int = 0, minutes: int = 480, **fields
) -> Entry:
    return Entry.objects.create(
        worker=worker,
        date=MONDAY + datetime.timedelta(days=day),
        project=fields.pop("project", "Apollo"),
        minutes=minutes,
        status=status,
        rejection_reason="no" if status == Entry.Status.REJECTED else "",
        **fields,
    )
