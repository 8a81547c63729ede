"""Celery tasks: thin wrappers that load by id and call a service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from . import services
from .models import BulkJob, Entry


@shared_task(acks_late=True)
def bulk_import(job_id: int) -> None:
    services.bulk_job_run(BulkJob.objects.get(pk=job_id))


@shared_task
def send_rejection_email(entry_id: int) -> None:
    entry = Entry.objects.select_related("worker", "decided_by").get(pk=entry_id)
    send_mail(
        subject=f"Timesheet entry rejected: {entry.project} on {entry.date:%d %b %Y}",
        message=(
            f"Hello {entry.worker.get_short_name()},\n\n"
            f"{entry.decided_by.get_full_name() if entry.decided_by else 'An approver'} rejected "
            f"{entry.hours:g} h on {entry.project} ({entry.date:%A %d %B %Y}).\n\n"
            f"Reason: {entry.rejection_reason}\n\nYou can correct it and submit it again."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[entry.worker.email],
    )
