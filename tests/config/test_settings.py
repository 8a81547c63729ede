"""Production settings fail closed; the deploy check is clean when configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "prod-test-key-" + "0123456789abcdefghij" * 3,
    "ALLOWED_HOSTS": "id.abcinc.example",
    "OIDC_ISSUER": "https://id.abcinc.example",
    "REDIS_URL": "redis://127.0.0.1:6379/15",  # not contacted by `check`
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # A production process starts from a clean slate: nothing of the test run's own.
    ours = {"SECRET_KEY", "ALLOWED_HOSTS", "OIDC_ISSUER", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.prod", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_redis():
    """Workers must share limits, one-time codes and revocation announcements."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "REDIS_URL must point at the Redis" in result.stderr


def test_production_refuses_an_http_issuer():
    result = _manage("check", **{**PRODUCTION_ENV, "OIDC_ISSUER": "http://id.abcinc.example"})
    assert result.returncode != 0
    assert "OIDC_ISSUER" in result.stderr


def test_production_deploy_check_is_clean():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_postgresql_database_that_does_not_answer_fails_in_seconds():
    probe = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    env = {**PRODUCTION_ENV, "DATABASE_URL": "postgres://abc@db.internal:5432/abc_identity"}
    result = _manage("shell", "-c", probe, **env)
    assert result.returncode == 0, result.stderr
    assert "'connect_timeout': 5" in result.stdout
    tuned = _manage("shell", "-c", probe, **env, DB_CONNECT_TIMEOUT="2")
    assert "'connect_timeout': 2" in tuned.stdout


def test_only_development_opens_metrics_to_this_machine():
    probe = "from django.conf import settings as s; print(s.METRICS_ALLOWED_ADDRESSES, repr(s.METRICS_TOKEN))"
    production = _manage("shell", "-c", probe, **PRODUCTION_ENV)
    assert production.returncode == 0, production.stderr
    assert production.stdout.strip().splitlines()[-1] == "[] ''"
    development = _manage("shell", "-c", probe, DJANGO_SETTINGS_MODULE="config.settings.dev")
    assert development.returncode == 0, development.stderr
    assert development.stdout.strip().splitlines()[-1] == "['127.0.0.1', '::1'] ''"
