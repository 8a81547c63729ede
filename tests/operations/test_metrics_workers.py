"""/metrics across gunicorn workers (prometheus_client's multiprocess mode): tokens issued
and refused by two workers at once add up exactly, whichever worker answers the scrape.

The server runs ``gunicorn -c config/gunicorn.py config.wsgi`` as production does, with the
test settings, on this test's database: PostgreSQL's test database itself, or on SQLite a
copy of this process's in-memory one (the rows the fixtures committed).
"""

from __future__ import annotations

import os
import runpy
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, basic_auth

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
TOKENS = 24
REFUSALS = 4  # below RATE_LIMIT_CLIENT_FAILURES (10 a minute per client): all reach the check
THREADS = 8
SCRAPE_TOKEN = "metrics-workers-test-token"
BOOT_SECONDS = 60

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Server:
    base: str
    metrics_dir: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url(tmp_path: Path) -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    # SQLite: the test database lives in this process's memory; the workers get a file copy.
    path = tmp_path / "db.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
    finally:
        target.close()
    return f"sqlite:///{path}"


def _worker_pids(directory: Path) -> set[str]:
    """The processes that wrote metrics files: each worker does as it loads the application."""
    return {path.stem.rpartition("_")[2] for path in directory.glob("counter_*.db")}


def _wait_for_workers(process: subprocess.Popen, server: Server) -> None:
    deadline = time.monotonic() + BOOT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}")
        if len(_worker_pids(server.metrics_dir)) >= WORKERS:
            try:
                urllib.request.urlopen(server.base + "/.well-known/openid-configuration", timeout=2)  # noqa: S310
                return
            except OSError:
                pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn's {WORKERS} workers did not start within {BOOT_SECONDS} s")


@pytest.fixture
def batch(confidential_client, timesheets_api) -> tuple[str, str]:
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    return client.client_id, secret


@pytest.fixture
def server(tmp_path, batch) -> Iterator[Server]:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(tmp_path),
        "DB_CONN_MAX_AGE": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "METRICS_TOKEN": SCRAPE_TOKEN,
        "WEB_CONCURRENCY": str(WORKERS),
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    if os.environ.get("REDIS_URL"):
        # The workers share one cache, as production's do (rate limits, failure counts).
        env |= {"REDIS_URL": os.environ["REDIS_URL"], "TEST_CACHE_KEY_PREFIX": f"metrics-{uuid.uuid4().hex}"}
    with (tmp_path / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            running = Server(base=f"http://127.0.0.1:{port}", metrics_dir=metrics_dir)
            _wait_for_workers(process, running)
            yield running
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _token_request(base: str, client_id: str, secret: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - our own server on loopback
        base + "/oauth/token",
        data=urlencode({"grant_type": "client_credentials", "audience": TIMESHEETS_API}).encode(),
        headers={"Authorization": basic_auth(client_id, secret), "Connection": "close"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _scrape(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    request = urllib.request.Request(base + "/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _tokens_per_worker(directory: Path) -> dict[str, float]:
    """Tokens each worker counted, read from its own file."""
    counted: dict[str, float] = {}
    for path in directory.glob("counter_*.db"):
        for metric in MultiProcessCollector.merge([str(path)]):
            if metric.name == "abc_identity_tokens_issued":
                counted[path.stem.rpartition("_")[2]] = sum(sample.value for sample in metric.samples)
    return counted


def test_two_workers_tokens_and_errors_add_up_exactly(server, batch):
    client_id, secret = batch
    secrets = [secret] * TOKENS + ["wrong-secret"] * REFUSALS
    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(lambda given: _token_request(server.base, client_id, given), secrets))

    assert statuses.count(HTTPStatus.OK) == TOKENS
    assert statuses.count(HTTPStatus.UNAUTHORIZED) == REFUSALS
    per_worker = _tokens_per_worker(server.metrics_dir)
    assert len([count for count in per_worker.values() if count > 0]) == WORKERS, per_worker
    assert sum(per_worker.values()) == TOKENS

    labels = {"grant_type": "client_credentials", "audience": TIMESHEETS_API, "client_id": client_id}
    for _ in range(WORKERS * 2):  # whichever worker answers, the same sums
        samples = _scrape(server.base)
        assert samples[("abc_identity_tokens_issued_total", frozenset(labels.items()))] == TOKENS
        assert (
            samples[("abc_identity_token_errors_total", frozenset({("error", "invalid_client")}))] == REFUSALS
        )
        timed = (
            "abc_identity_http_request_duration_seconds_count",
            frozenset({("route", "token"), ("method", "POST"), ("status", "2xx")}),
        )
        assert samples[timed] == TOKENS


def test_gunicorn_empties_the_directory_of_processes_that_are_gone(tmp_path, monkeypatch):
    gone, running = tmp_path / "counter_999999999.db", tmp_path / f"histogram_{os.getpid()}.db"
    gone.write_bytes(b"stale")
    running.write_bytes(b"live")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    runpy.run_path(str(ROOT / "config" / "gunicorn.py"))["on_starting"](None)

    assert not gone.exists()
    assert running.read_bytes() == b"live"  # a Celery worker sharing the directory writes on


def test_gunicorn_makes_a_directory_when_none_is_named_and_removes_it_at_exit(monkeypatch):
    # Set, then unset: monkeypatch then removes what on_starting sets, whatever was there.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    hooks = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))

    hooks["on_starting"](None)
    made = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert made.is_dir()
    hooks["on_exit"](None)
    assert not made.exists()
