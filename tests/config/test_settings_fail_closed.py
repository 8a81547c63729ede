"""Production refuses a SECRET_KEY that is long but not random, with a message saying why."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.utils import get_random_secret_key

from .test_settings import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]

# Each candidate key is tried in one fresh interpreter (settings refuse at import time).
PROBE = """
import importlib, json, os, sys
from django.core.exceptions import ImproperlyConfigured
results = {}
for label, key in json.loads(sys.argv[1]).items():
    os.environ["SECRET_KEY"] = key
    for name in ("config.settings.prod", "config.settings.base", "config.settings"):
        sys.modules.pop(name, None)
    try:
        importlib.import_module("config.settings.prod")
    except ImproperlyConfigured as error:
        results[label] = str(error)
    else:
        results[label] = None
print(json.dumps(results))
"""

WEAK = {
    "fifty-a": "a" * 50,
    "two-letters": "ab" * 40,
    "digits": "0123456789" * 5,
    "mostly-one-letter": "a" * 60 + "Xq7#",
    "django-insecure": "django-insecure-" + get_random_secret_key(),
}
STRONG = {
    "django-generated": get_random_secret_key(),
    "token-urlsafe-50": secrets.token_urlsafe(50),
    "token-hex-32": secrets.token_hex(32),
    "test-settings-key": PRODUCTION_ENV["SECRET_KEY"],
}


@pytest.fixture(scope="module")
def verdicts() -> dict[str, str | None]:
    ours = {"SECRET_KEY", "ALLOWED_HOSTS", "OIDC_ISSUER", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env |= {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(WEAK | STRONG)],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.prod"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("label", sorted(WEAK))
def test_production_refuses_a_long_but_guessable_secret_key(verdicts, label):
    message = verdicts[label]
    assert message is not None, f"{label} was accepted"
    assert "SECRET_KEY" in message
    # The message says how to make a good one.
    assert "secrets.token_urlsafe(50)" in message


@pytest.mark.parametrize("label", sorted(STRONG))
def test_production_accepts_generated_keys(verdicts, label):
    assert verdicts[label] is None


def test_the_refusal_stops_manage_py_with_the_reason():
    from .test_settings import _manage

    result = _manage("check", **{**PRODUCTION_ENV, "SECRET_KEY": "a" * 50})
    assert result.returncode != 0
    assert "SECRET_KEY is not random enough" in result.stderr
