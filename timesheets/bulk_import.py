"""Importing a stored bulk job's rows as entries: what the Celery worker runs."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import BulkJob, Entry
from .selectors import people_by_email
from .services import entry_create

BULK_PROGRESS_EVERY = 200


def bulk_job_run(*, job: BulkJob) -> BulkJob:
    """Import a job's rows. Rows whose external id this client already sent are skipped, so
    sending a file twice creates nothing twice; rows that break a rule are reported."""
    BulkJob.objects.filter(pk=job.pk).update(status=BulkJob.Status.RUNNING)
    workers = people_by_email({row["worker"] for row in job.rows})
    errors: list[dict[str, Any]] = []
    created = skipped = 0
    for index, row in enumerate(job.rows, start=1):
        try:
            with transaction.atomic():
                if (
                    row.get("external_id")
                    and Entry.objects.filter(batch_client=job.client, external_id=row["external_id"]).exists()
                ):
                    skipped += 1
                else:
                    entry_create(
                        worker=workers[row["worker"]],
                        date=datetime.date.fromisoformat(row["date"]),
                        project=row["project"],
                        hours=row["hours"],
                        notes=row.get("notes", ""),
                        source=Entry.Source.BATCH,
                        batch_client=job.client,
                        external_id=row.get("external_id"),
                    )
                    created += 1
        except ValidationError as error:
            errors.append({"row": index, "errors": error.messages})
        except IntegrityError:
            skipped += 1  # the same external id arrived concurrently: it exists once
        if index % BULK_PROGRESS_EVERY == 0:
            BulkJob.objects.filter(pk=job.pk).update(
                processed=index, created=created, skipped=skipped, errors=errors
            )
    BulkJob.objects.filter(pk=job.pk).update(
        status=BulkJob.Status.DONE,
        processed=len(job.rows),
        created=created,
        skipped=skipped,
        errors=errors,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job
