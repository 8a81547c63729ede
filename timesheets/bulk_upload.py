"""Accepting a batch client's bulk upload: the whole file's rules, then a job for the worker.

This module enqueues the import, so it imports ``tasks``; ``tasks`` never imports it (the
worker's side is ``bulk_import``).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from clients.models import Client

from . import tasks
from .models import BulkJob
from .selectors import active_emails
from .services import hours_to_minutes

RowProblems = dict[str, list[str]]


def bulk_rows_validate(
    *, rows: dict[int, dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[int, RowProblems]]:
    """Check the whole upload before accepting any of it: that workers exist and are active,
    that hours are quarter hours, that no external id repeats within the file.

    ``rows`` are the rows whose fields parsed, by their number in the file (from 1). Returns
    every row as a job stores it, and the problems by row number (empty: accept the upload).
    """
    known = active_emails({row["worker"].lower() for row in rows.values()})
    first_seen: dict[str, int] = {}
    clean: list[dict[str, Any]] = []
    problems: dict[int, RowProblems] = {}
    for index, row in rows.items():
        found: RowProblems = {}
        if row["worker"].lower() not in known:
            found["worker"] = [f"No active user {row['worker']}."]
        try:
            hours_to_minutes(row["hours"])
        except ValidationError as error:
            found.update(error.message_dict)
        external_id = row.get("external_id") or ""
        if external_id:
            if external_id in first_seen:
                found["external_id"] = [f"Repeats row {first_seen[external_id]}."]
            first_seen.setdefault(external_id, index)
        if found:
            problems[index] = found
        clean.append(
            {
                "worker": row["worker"].lower(),
                "date": row["date"].isoformat(),
                "project": row["project"],
                "hours": str(row["hours"]),
                "notes": row.get("notes", ""),
                "external_id": external_id or None,
            }
        )
    return clean, problems


@transaction.atomic
def bulk_job_create(*, client: Client, rows: list[dict[str, Any]]) -> BulkJob:
    """Store validated rows and have a worker import them after commit."""
    job = BulkJob.objects.create(client=client, rows=rows, total=len(rows))
    transaction.on_commit(partial(tasks.bulk_import.delay, job.pk))
    return job
