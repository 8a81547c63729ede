"""Health probes: /health/live answers while the process does; /health/ready names each
dependency that cannot serve and answers 503, never with a detail a stranger could use. A
probe by address over plain HTTP is answered before HTTPS redirects, host checks, sessions,
the audit log and rate limits.

The dependency failures are real: a fresh process is pointed at a closed port, an unmigrated
database or a Redis that is not there.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.utils import timezone

from accounts import events
from accounts.health_middleware import HealthMiddleware
from accounts.models import AuditEntry
from apis import keys
from apis.models import SigningKey

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ["database", "migrations", "cache", "broker", "signing_key"]
PROBE_HOST = "10.0.0.7"  # how a load balancer reaches an instance: its address, not its name
PROD_HOST = "identity.abcinc.example"

# A fresh process asks for readiness as a load balancer would (by address, plain HTTP) and
# prints what it was told.
PROBE = f"""
import json, django
django.setup()
from django.test import Client
response = Client().get("/health/ready", HTTP_HOST="{PROBE_HOST}")
print(json.dumps({{"status": response.status_code, "type": response["Content-Type"],
                  "body": response.content.decode()}}))
"""
# Whatever the test run was given (PostgreSQL, Redis) is replaced by what each probe names.
INHERITED = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "TEST_CACHE_KEY_PREFIX"}


def _run(code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in INHERITED}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": "", **environment})
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done


def _probe(**environment: str) -> tuple[int, dict[str, Any]]:
    """Status and body of /health/ready in a fresh process; the body holds nothing that
    names where the dependencies are or how they failed."""
    result = json.loads(_run(PROBE, **environment).stdout.strip().splitlines()[-1])
    assert result["type"] == "application/json"
    for leak in ("Traceback", "127.0.0.1", "postgres://", "redis://", "nobody", "sqlite", "refused"):
        assert leak not in result["body"]
    return result["status"], json.loads(result["body"])


def _failing(body: dict[str, Any]) -> set[str]:
    return {name for name, check in body["checks"].items() if check["status"] == "fail"}


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database file as a deployment has it: migrated, with the signing key of first use."""
    url = f"sqlite:///{tmp_path_factory.mktemp('health') / 'migrated.sqlite3'}"
    _run(
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from apis.keys import signing_key_current\n"
        "signing_key_current()\n",
        DATABASE_URL=url,
    )
    return url


def test_a_fresh_process_with_every_dependency_up_is_ready(migrated_sqlite):
    status, body = _probe(DATABASE_URL=migrated_sqlite)
    assert status == HTTPStatus.OK
    assert body["status"] == "ok"
    assert list(body["checks"]) == CHECKS
    assert _failing(body) == set()


def test_database_down_is_503_naming_database():
    status, body = _probe(DATABASE_URL="postgres://nobody@127.0.0.1:1/x")
    assert status == HTTPStatus.SERVICE_UNAVAILABLE
    assert body["status"] == "fail"
    assert body["checks"]["database"]["status"] == "fail"
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert body["checks"]["cache"]["status"] == "ok"


def test_redis_down_under_production_settings_is_503_naming_cache_and_broker(migrated_sqlite):
    # Production's settings send tasks through the broker (the test settings run them in
    # process), answer plain HTTP with a redirect to HTTPS, and refuse unknown hosts.
    status, body = _probe(
        DJANGO_SETTINGS_MODULE="config.settings.prod",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=PROD_HOST,
        OIDC_ISSUER=f"https://{PROD_HOST}",
        DATABASE_URL=migrated_sqlite,
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert status == HTTPStatus.SERVICE_UNAVAILABLE
    assert _failing(body) == {"cache", "broker"}
    assert body["checks"]["cache"]["error"] == "ConnectionError"
    assert body["checks"]["broker"]["error"] == "ConnectionError"


def test_unapplied_migrations_are_503_naming_migrations(tmp_path):
    status, body = _probe(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert status == HTTPStatus.SERVICE_UNAVAILABLE
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["migrations"] == {
        "status": "fail",
        "latency_ms": body["checks"]["migrations"]["latency_ms"],
        "error": "unapplied migrations",
    }


# No database for this test: pytest-django refuses any query, so liveness makes none.
def test_live_answers_without_touching_any_dependency(settings):
    settings.HEALTH_CHECKS = ["tests.operations.test_health.check_hangs"]
    response = HttpClient().get("/health/live")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.fixture
def signing_key(transactional_db) -> SigningKey:
    """The checks run in threads of their own, with their own database connections: they
    see committed rows only (``transactional_db``)."""
    keys.forget_current_key()
    return keys.signing_key_current()


def test_ready_lists_every_check_with_its_latency(signing_key):
    response = HttpClient().get("/health/ready")
    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok"
    assert list(body["checks"]) == CHECKS
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert isinstance(check["latency_ms"], float) and check["latency_ms"] >= 0


@pytest.mark.parametrize("how", ["deleted", "retired"])
def test_no_current_signing_key_is_503_naming_signing_key(signing_key, how):
    if how == "deleted":
        SigningKey.objects.all().delete()
    else:
        SigningKey.objects.update(retired_at=timezone.now())
    response = HttpClient().get("/health/ready")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["checks"]["signing_key"]["error"] == "no current RS256 key"
    assert _failing(response.json()) == {"signing_key"}
    # A probe never makes the key it misses.
    assert not SigningKey.objects.filter(retired_at__isnull=True).exists()


def test_a_probe_by_address_over_http_is_answered_under_production_redirects(signing_key, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = [PROD_HOST]
    http = HttpClient()
    # Every other path: the unknown host is refused, the known one sent to HTTPS.
    discovery = "/.well-known/openid-configuration"
    assert http.get(discovery, HTTP_HOST=PROBE_HOST).status_code == HTTPStatus.BAD_REQUEST
    assert http.get(discovery, HTTP_HOST=PROD_HOST).status_code == HTTPStatus.MOVED_PERMANENTLY
    assert http.get("/health/live", HTTP_HOST=PROBE_HOST).status_code == HTTPStatus.OK
    ready = http.get("/health/ready/", HTTP_HOST=PROBE_HOST)
    assert ready.status_code == HTTPStatus.OK
    assert ready.json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_only_get_and_head_are_allowed(path, method):
    response = getattr(HttpClient(), method)(path)
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {"error": "method_not_allowed"}
    assert response["Cache-Control"] == "no-store"


def _not_reached(request: HttpRequest) -> HttpResponse:
    raise AssertionError("a probe went past the health middleware")


def test_head_answers_like_get_without_a_body(settings):
    # Called directly: the test client drops a HEAD body itself, gunicorn with a warning.
    settings.HEALTH_CHECKS = ["tests.operations.test_health.check_leaks"]
    probe, requests = HealthMiddleware(_not_reached), RequestFactory()
    live, ready = probe(requests.head("/health/live")), probe(requests.head("/health/ready"))
    assert isinstance(live, HttpResponse) and isinstance(ready, HttpResponse)
    assert (live.status_code, live.content) == (HTTPStatus.OK, b"")
    assert (ready.status_code, ready.content) == (HTTPStatus.SERVICE_UNAVAILABLE, b"")
    assert ready["Cache-Control"] == "no-store"


def test_probes_leave_no_audit_entry_event_or_session(signing_key):
    entries, sessions = AuditEntry.objects.count(), Session.objects.count()
    http = HttpClient(REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT="kube-probe/1.31")
    for path in ("/health/live", "/health/ready") * 3:
        response = http.get(path)
        assert response.status_code == HTTPStatus.OK
        assert not response.cookies
    assert AuditEntry.objects.count() == entries
    assert Session.objects.count() == sessions
    assert events.take() == []


def test_probes_do_not_count_against_the_address_rate_limit(db, settings, steady_rate_window):
    settings.RATE_LIMIT_PER_IP = 2
    settings.HEALTH_CHECKS = []  # what is counted is the probe, whatever it checks
    http = HttpClient(REMOTE_ADDR="192.0.2.77")
    for path in ("/health/live", "/health/ready") * 5:
        assert http.get(path).status_code == HTTPStatus.OK
    # The address's two token requests are its first two: neither waits.
    for _ in range(2):
        answered = http.post("/oauth/token", {"grant_type": "client_credentials"})
        assert answered.status_code != HTTPStatus.TOO_MANY_REQUESTS
    assert http.post("/oauth/token", {}).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert http.get("/health/live").status_code == HTTPStatus.OK  # probes go on regardless


# Checks for the tests below, named in HEALTH_CHECKS by their dotted paths.
_release = threading.Event()
_hanging_runs: list[float] = []


def check_hangs() -> None:
    _hanging_runs.append(time.monotonic())
    _release.wait(30)


def check_leaks() -> None:
    try:
        raise ConnectionRefusedError("cache.internal.example:6379 refused")
    except ConnectionRefusedError as cause:
        raise RuntimeError("redis://:hunter2@cache.internal.example:6379/0 is down") from cause


@pytest.fixture
def hanging(settings) -> Iterator[None]:
    settings.HEALTH_CHECKS = ["tests.operations.test_health.check_hangs"]
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.3
    _release.clear()
    _hanging_runs.clear()
    try:
        yield
    finally:
        _release.set()


def test_a_check_that_hangs_is_a_timeout_and_is_not_started_again(hanging):
    http = HttpClient()
    began = time.monotonic()
    response = http.get("/health/ready")
    assert time.monotonic() - began < 2
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["checks"] == {
        "check_hangs": {"status": "fail", "latency_ms": 300.0, "error": "timeout"}
    }
    # The next probes wait for the same run: a hung dependency holds one thread, not one each.
    assert http.get("/health/ready").status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert http.get("/health/ready").status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert len(_hanging_runs) == 1
    # Once it has answered, the next probe runs the check again.
    _release.set()
    deadline = time.monotonic() + 5
    while http.get("/health/ready").status_code != HTTPStatus.OK and time.monotonic() < deadline:
        time.sleep(0.05)
    runs = len(_hanging_runs)
    assert http.get("/health/ready").status_code == HTTPStatus.OK
    assert len(_hanging_runs) == runs + 1


def test_a_failure_is_told_by_class_never_by_message(settings):
    settings.HEALTH_CHECKS = ["tests.operations.test_health.check_leaks"]
    response = HttpClient().get("/health/ready")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["checks"]["check_leaks"]["error"] == "ConnectionRefusedError"
    assert b"hunter2" not in response.content
    assert b"cache.internal" not in response.content
