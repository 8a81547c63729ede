"""Revocation reaches every process: gunicorn workers sharing the database (and Redis).

Runs in .ci/run's PostgreSQL pass: the workers must see the test's committed rows.
With Redis the next request anywhere is refused; without it, every worker refuses within
REVOCATION_CACHE_SECONDS (1 s).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient

from apis.services import api_update
from authz.services import role_assign, role_create, role_set_permissions, role_unassign
from tests.oauth import TIMESHEETS_API, Pkce, exchange, get_code

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
CALLS = 24  # several rounds over the workers: sync workers take one connection each
# The workers' own REVOCATION_CACHE_SECONDS without Redis (set for them below), whatever this
# process read: with REDIS_URL set, the test process's own is a minute.
LOCAL_REVOCATION_SECONDS = 1

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL shared with server processes: runs in .ci/run's service pass",
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server(shared_cache: bool) -> Iterator[str]:
    db = connection.settings_dict
    credentials = f"{db['USER']}:{db['PASSWORD'] or ''}"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "0",
    }
    if shared_cache:
        env |= {
            "REDIS_URL": os.environ["REDIS_URL"],
            "TEST_CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        }
    else:
        env["REVOCATION_CACHE_SECONDS"] = str(LOCAL_REVOCATION_SECONDS)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/.well-known/openid-configuration", timeout=2)  # noqa: S310
                break
            except OSError:
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def redis_server() -> Iterator[str]:
    yield from _server(shared_cache=True)


# .ci/run's PostgreSQL pass always has Redis; a PostgreSQL run without it tests the rest.
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis shared with the workers"
)


@pytest.fixture
def local_cache_server() -> Iterator[str]:
    yield from _server(shared_cache=False)


def _statuses(base: str, token: str) -> list[int]:
    statuses = []
    for _ in range(CALLS):
        request = urllib.request.Request(  # noqa: S310 - our own server on loopback
            base + "/api/timesheets", headers={"Authorization": f"Bearer {token}", "Connection": "close"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def _revoke(base: str, client_id: str, token: str) -> None:
    body = urlencode({"token": token, "client_id": client_id}).encode()
    with urllib.request.urlopen(base + "/oauth/revoke", body, timeout=10) as response:  # noqa: S310
        assert response.status == HTTPStatus.OK


def _sign_in(user, public_client) -> dict:
    http = HttpClient()
    http.force_login(user)
    pkce = Pkce.new()
    code = get_code(
        http, public_client.client_id, pkce, scope="openid read:timesheets", audience=TIMESHEETS_API
    )
    return exchange(http, public_client.client_id, code, pkce.verifier).json()


@needs_redis
def test_with_redis_a_revoked_token_is_refused_by_every_worker_at_once(
    redis_server, user, public_client, timesheets_api
):
    tokens = _sign_in(user, public_client)
    assert set(_statuses(redis_server, tokens["access_token"])) == {HTTPStatus.OK}  # every worker warm
    _revoke(redis_server, public_client.client_id, tokens["access_token"])
    assert set(_statuses(redis_server, tokens["access_token"])) == {HTTPStatus.UNAUTHORIZED}


def test_without_redis_every_worker_refuses_within_a_second(
    local_cache_server, user, public_client, timesheets_api
):
    tokens = _sign_in(user, public_client)
    assert set(_statuses(local_cache_server, tokens["access_token"])) == {HTTPStatus.OK}
    _revoke(local_cache_server, public_client.client_id, tokens["access_token"])
    time.sleep(LOCAL_REVOCATION_SECONDS + 0.2)
    assert set(_statuses(local_cache_server, tokens["access_token"])) == {HTTPStatus.UNAUTHORIZED}


@needs_redis
def test_with_redis_a_lost_permission_reaches_every_worker_at_once(
    redis_server, user, public_client, timesheets_api
):
    api = api_update(api=timesheets_api, rbac_enabled=True)
    role = role_create(actor=None, name="Reader")
    role_set_permissions(actor=None, role=role, permissions=list(api.scopes.filter(value="read:timesheets")))
    role_assign(actor=None, role=role, user=user)
    tokens = _sign_in(user, public_client)
    assert set(_statuses(redis_server, tokens["access_token"])) == {HTTPStatus.OK}
    role_unassign(actor=None, role=role, user=user)  # in this process: announced through Redis
    assert set(_statuses(redis_server, tokens["access_token"])) == {HTTPStatus.UNAUTHORIZED}
