"""Celery tasks of ``authz``: thin wrappers around a service."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from .people_import import people_import_run


@shared_task
def people_import_task(*, job: str, actor_id: int, rows: list[dict[str, Any]]) -> None:
    people_import_run(job=job, actor_id=actor_id, rows=rows)
