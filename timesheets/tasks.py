"""Celery tasks: thin wrappers that load by id and call a service.

Nothing here imports the modules that enqueue these tasks (``decisions``, ``bulk_upload``),
so the dependency runs one way: enqueuer -> task -> service.
"""

from __future__ import annotations

from celery import shared_task

from .bulk_import import bulk_job_run
from .models import BulkJob, Entry
from .notifications import rejection_email_send


@shared_task(acks_late=True)
def bulk_import(job_id: int) -> None:
    bulk_job_run(job=BulkJob.objects.get(pk=job_id))


@shared_task
def send_rejection_email(entry_id: int) -> None:
    rejection_email_send(entry=Entry.objects.select_related("worker", "decided_by").get(pk=entry_id))
