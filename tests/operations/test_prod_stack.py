"""`make prod`'s stack, run as the Procfile runs it: gunicorn (two workers, production
settings, https), a Celery worker and beat, on PostgreSQL and Redis.

One run shows what an operator relies on: readiness with every dependency up, tokens from
the demo batch client, a signing-key rotation carried out by the beat schedule and the
worker (the next key in the JWKS first, then signing, the old one still published),
the counts in /metrics, and one JSON line per request in the logs, none holding a secret.
The schedule is shortened to seconds; the services run in `.ci/run`'s second pass.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from tools import prod_local

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
AUDIENCE = "https://timesheets.abcinc.example/api"
BATCH_CLIENT = "timesheets-batch"
# The RSA key signs for ROTATE_SECONDS; the next one is published LEAD_SECONDS before.
ROTATE_SECONDS, LEAD_SECONDS = 24, 8
DAY = 86400


@dataclass(frozen=True)
class Stack:
    base: str
    env: dict[str, str]
    log: Path
    tls: ssl.SSLContext


def _services_or_skip() -> None:
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("the production stack runs on PostgreSQL and Redis (.ci/run's second pass)")
    if not (VENV_BIN / "honcho").exists():
        pytest.fail("honcho is missing from the virtualenv (requirements.txt)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]


def _environment(tmp_path: Path) -> dict[str, str]:
    name = f"abc_identity_stack_{os.getpid()}"
    database = urllib.parse.urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()
    variables = prod_local.environment(tmp_path, _free_port()) | {
        "DATABASE_URL": database,
        "REDIS_URL": str(settings.REDIS_URL),
        "CACHE_KEY_PREFIX": f"stack-{os.getpid()}",
        "CELERY_QUEUE": f"stack-{os.getpid()}",
        "WEB_CONCURRENCY": "2",
        "SIGNING_KEY_ROTATION_DAYS": str(ROTATE_SECONDS / DAY),
        "SIGNING_KEY_PUBLISH_LEAD_DAYS": str(LEAD_SECONDS / DAY),
        "SIGNING_KEY_ROTATION_CHECK_SECONDS": "1",
        "DEMO_PASSWORD": "Stack-" + os.urandom(9).hex(),
        "DEMO_CLIENT_SECRET": os.urandom(24).hex(),
    }
    # A production process starts from its own variables only, none of the test run's.
    ours = {"DJANGO_SETTINGS_MODULE", "TEST_CACHE_KEY_PREFIX", "DJANGO_ALLOW_ASYNC_UNSAFE", *variables}
    return {k: v for k, v in os.environ.items() if k not in ours} | variables


def _teardown(env: dict[str, str]) -> None:
    client = redis.Redis.from_url(env["REDIS_URL"])
    for pattern in (f"*{env['CACHE_KEY_PREFIX']}*", f"*{env['CELERY_QUEUE']}*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
    name = urllib.parse.urlsplit(env["DATABASE_URL"]).path.lstrip("/")
    server = urllib.parse.urlsplit(env["DATABASE_URL"])._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    _services_or_skip()
    env = _environment(tmp_path)
    prod_local.env_file_write(tmp_path / "env", {})  # honcho reads the environment we pass
    prod_local.tls_certificate_write(Path(env["TLS_CERT_FILE"]), Path(env["TLS_KEY_FILE"]))
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir()
    try:
        prod_local.database_create(env["DATABASE_URL"])
        _run(env, "migrate", "--noinput")
        _run(env, "collectstatic", "--noinput", "--verbosity", "0")
        _run(env, "seed_demo")
        log = tmp_path / "honcho.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(VENV_BIN / "honcho"), "--procfile", "Procfile", "--env", str(tmp_path / "env"), "start"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            yield Stack(
                base=env["OIDC_ISSUER"],
                env=env,
                log=log,
                tls=ssl.create_default_context(cafile=env["TLS_CERT_FILE"]),
            )
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    finally:
        _teardown(env)


def _get(stack: Stack, path: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(stack.base + path, headers=headers)  # noqa: S310 - our https URL
    try:
        with urllib.request.urlopen(request, timeout=10, context=stack.tls) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _token(stack: Stack) -> str:
    """A client_credentials token for the demo batch client (HTTP Basic, its registered method)."""
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "audience": AUDIENCE}).encode()
    basic = base64.b64encode(f"{BATCH_CLIENT}:{stack.env['DEMO_CLIENT_SECRET']}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - our https URL
        stack.base + "/oauth/token", data=body, headers={"Authorization": f"Basic {basic}"}
    )
    with urllib.request.urlopen(request, timeout=10, context=stack.tls) as response:  # noqa: S310
        return str(json.load(response)["access_token"])


def _rsa_kids(stack: Stack) -> list[str]:
    status, body = _get(stack, "/.well-known/jwks.json")
    assert status == 200
    return [key["kid"] for key in json.loads(body)["keys"] if key["kty"] == "RSA"]


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def _wait_for(what: str, seconds: float, probe: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if found := probe():
                return found
        except (OSError, urllib.error.URLError):
            pass  # the stack is still starting
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {seconds} s")


def _ready(stack: Stack) -> dict[str, Any] | None:
    status, body = _get(stack, "/health/ready")
    return json.loads(body) if status == 200 else None


def test_the_production_stack_serves_rotates_on_schedule_counts_and_logs(stack):
    health = _wait_for("readiness", 90, lambda: _ready(stack))
    assert {name for name, check in health["checks"].items() if check["status"] == "ok"} >= {
        "database",
        "migrations",
        "cache",
        "broker",
        "signing_key",
    }

    first = _token(stack)
    old_kid = _kid(first)
    assert _rsa_kids(stack) == [old_kid]
    issued = 1

    # The beat schedule asks the worker; the next key appears in the JWKS before it signs.
    published = _wait_for("the next key in the JWKS", 60, lambda: len(kids := _rsa_kids(stack)) == 2 and kids)
    new_kid = next(kid for kid in published if kid != old_kid)
    assert _kid(_token(stack)) == old_kid  # published is not signing
    issued += 1

    def signed_by_new_key() -> bool:
        nonlocal issued
        issued += 1
        return _kid(_token(stack)) == new_kid

    _wait_for("the switch to the next key", 60, signed_by_new_key)
    assert old_kid in _rsa_kids(stack)  # retired, still published for the tokens it signed
    keys = json.loads(_get(stack, "/.well-known/jwks.json")[1])["keys"]
    old_public = jwt.PyJWK(next(key for key in keys if key["kid"] == old_kid)).key
    assert jwt.decode(first, old_public, algorithms=["RS256"], audience=AUDIENCE)["client_id"] == BATCH_CLIENT

    status, _ = _get(stack, "/metrics")
    assert status == 401
    status, text = _get(stack, "/metrics", Authorization=f"Bearer {stack.env['METRICS_TOKEN']}")
    assert status == 200
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }
    counted = samples[
        (
            "abc_identity_tokens_issued_total",
            (("audience", AUDIENCE), ("client_id", BATCH_CLIENT), ("grant_type", "client_credentials")),
        )
    ]
    assert counted == issued

    output = stack.log.read_text(errors="replace")
    web = [line.split("| ", 1)[1] for line in output.splitlines() if " web.1 " in line and "| {" in line]
    requests = [json.loads(line) for line in web if '"path"' in line]
    token_lines = [line for line in requests if line.get("path") == "/oauth/token"]
    assert len(token_lines) == issued
    assert all(line["request_id"] and line["status"] == 200 for line in token_lines)
    for name in ("DEMO_CLIENT_SECRET", "DEMO_PASSWORD", "METRICS_TOKEN"):
        assert stack.env[name] not in output
    assert first not in output
