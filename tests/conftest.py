from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import Client as HttpClient

from accounts import events
from accounts.caching import forget_all
from accounts.models import User
from accounts.throttle import Limit
from apis.models import Api
from apis.services import api_create
from authz.oauth import issuance_counts
from clients.models import Client
from clients.services import client_create

from .chromium import browser  # noqa: F401 - one Chromium for the whole session
from .oauth import LOOPBACK_CALLBACK, MOBILE_CALLBACK, TIMESHEETS_API

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(db) -> User:
    return User.objects.create_user(
        email="alice@abcinc.example",
        password=PASSWORD,
        name="Alice Anders",
        nickname="alice",
        picture="https://abcinc.example/people/alice.png",
        email_verified=True,
    )


@pytest.fixture
def staff_user(db) -> User:
    return User.objects.create_user(
        email="admin@abcinc.example", password=PASSWORD, name="Ada Admin", is_staff=True
    )


@pytest.fixture
def staff_client(staff_user) -> HttpClient:
    """A browser signed in to the dashboard as ``staff_user``."""
    http = HttpClient()
    http.force_login(staff_user)
    return http


@pytest.fixture
def auditor_client(password) -> HttpClient:
    """A browser signed in to the dashboard as a read-only auditor."""
    auditor = User.objects.create_user(
        email="auditor@abcinc.example", password=password, is_staff=True, staff_role=User.StaffRole.AUDITOR
    )
    http = HttpClient()
    http.force_login(auditor)
    return http


@pytest.fixture
def public_client(db) -> Client:
    """A native app: public, authorization code with PKCE, RS256 ID tokens."""
    client, _ = client_create(
        app_type=Client.AppType.NATIVE,
        name="Timesheets Mobile (test)",
        client_id="test-mobile",
        redirect_uris=[MOBILE_CALLBACK, LOOPBACK_CALLBACK],
    )
    return client


@pytest.fixture
def confidential_client(db) -> tuple[Client, str]:
    """A machine client (HTTP Basic) and its plain-text secret; it has no API grant yet."""
    client, secret = client_create(
        app_type=Client.AppType.M2M, name="Timesheets Batch (test)", client_id="test-batch"
    )
    assert secret is not None  # a confidential client is always given one
    return client, secret


@pytest.fixture
def user_client(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


TIMESHEETS_SCOPES = {
    "read:timesheets": "Read your timesheets",
    "create:timesheets": "Log time",
    "delete:timesheets": "Delete your timesheet entries",
    "approve:timesheets": "Approve the timesheets of your reports",
}


@pytest.fixture
def steady_rate_window(monkeypatch) -> None:
    """Rate limits count in fixed windows (a minute, a lockout period): a test that counts
    requests up to a limit must not straddle a window's end, or its count starts again
    half-way. The limits' clock is set back so that every window of an hour or a divisor of
    it began half a second ago, rather than waiting for the next one to begin. (Servers in
    other processes keep the wall clock: tests counting there cannot use this.)"""
    offset = time.time() % 3600 - 0.5
    monkeypatch.setattr(Limit, "now", staticmethod(lambda: time.time() - offset))


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test sees the registry it built and starts with empty rate-limit counters and
    revocation list, not those a previous test left behind."""
    forget_all()
    cache.clear()
    yield
    forget_all()
    # What a test left unwritten in the per-process buffers (events, token counts) belongs to
    # its own rolled-back database: dropped, never written at exit to whatever database is there.
    events.take()
    issuance_counts.take()


@pytest.fixture
def timesheets_api(db) -> Api:
    return api_create(
        identifier=TIMESHEETS_API,
        name="Timesheets API",
        allow_offline_access=True,
        add_permissions_claim=True,
        scopes=TIMESHEETS_SCOPES,
    )


@pytest.fixture
def hs256_api(db) -> Api:
    return api_create(
        identifier="https://reports.abcinc.example/api",
        name="Reports API",
        signing_algorithm=Api.Algorithm.HS256,
        token_lifetime=600,
        scopes={"read:reports": "Read reports"},
    )
