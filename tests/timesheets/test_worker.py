"""The bulk import through a real Celery worker and Redis (CI's service pass)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from http import HTTPStatus
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app as celery_app
from timesheets.models import BulkJob, Entry

from .conftest import Api

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL") or connection.vendor != "postgresql",
        reason="needs Redis and PostgreSQL shared with a worker process: runs in .ci/run's service pass",
    ),
]


@pytest.fixture
def worker_queue():
    """A Celery worker in another process, on a queue of its own, using the test database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    saved = {
        "task_always_eager": celery_app.conf.task_always_eager,
        "task_default_queue": celery_app.conf.task_default_queue,
    }
    celery_app.conf.update(task_always_eager=False, task_default_queue=queue)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}"
        f"/{db['NAME']}",
        "CELERY_QUEUE": queue,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "-c",
            "1",
            "--pool",
            "solo",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield queue
    finally:
        celery_app.conf.update(**saved)
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_worker_imports_the_upload(worker_queue, batch_token, worker):
    rows = [
        {
            "worker": worker.email,
            "date": f"2026-11-{16 + i}",
            "project": "Payroll",
            "hours": "2",
            "external_id": f"w-{i}",
        }
        for i in range(5)
    ]
    response = Api(batch_token).http.post(
        "/api/timesheets/bulk", json.dumps(rows), content_type="application/json"
    )
    assert response.status_code == HTTPStatus.ACCEPTED
    job_id = int(response["Location"].rsplit("/", 1)[1])

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = BulkJob.objects.get(pk=job_id)
        if job.status == BulkJob.Status.DONE:
            break
        time.sleep(0.5)
    assert job.status == BulkJob.Status.DONE, "the worker did not finish the import in time"
    assert job.created == 5
    assert Entry.objects.filter(worker=worker, source=Entry.Source.BATCH).count() == 5
