"""Production's gunicorn settings load, and choose the worker count that measured best."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "config" / "gunicorn.py"


def test_one_sync_worker_more_than_the_cores_unless_told(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    settings = runpy.run_path(str(CONF))
    assert settings["workers"] == (os.cpu_count() or 1) + 1
    assert settings["worker_class"] == "sync"
    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    assert runpy.run_path(str(CONF))["workers"] == 7


def test_gunicorn_accepts_the_file_with_the_application():
    gunicorn = Path(sys.executable).parent / "gunicorn"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "sqlite://:memory:",
    }
    checked = subprocess.run(
        [str(gunicorn), "--check-config", "-c", str(CONF), "config.wsgi"],
        cwd=CONF.parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
