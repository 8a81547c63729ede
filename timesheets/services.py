"""Writes for timesheets: the API, the web pages and the bulk task all come through here."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from clients.models import Client

from . import tasks
from .models import MINUTES_PER_DAY, BulkJob, Entry
from .policies import may_decide
from .selectors import day_minutes

logger = logging.getLogger(__name__)
BULK_PROGRESS_EVERY = 200


class InvalidTransition(Exception):
    """The entry is not in a state that allows this change (HTTP 409)."""


def hours_to_minutes(hours: Any) -> int:
    """Hours as a number of quarter hours, more than 0 and at most 24, as minutes."""
    try:
        value = Decimal(str(hours))
    except (InvalidOperation, ValueError) as error:
        raise ValidationError({"hours": "Enter hours as a number, e.g. 7.5."}) from error
    if not value.is_finite() or value <= 0 or value > 24:
        raise ValidationError({"hours": "Hours must be more than 0 and at most 24."})
    minutes = value * 60
    if minutes % 15:
        raise ValidationError({"hours": "Hours go in quarter-hour steps (0.25, 0.5, 0.75, …)."})
    return int(minutes)


def _check_day_total(
    *, worker: User, date: datetime.date, minutes: int, exclude_pk: int | None = None
) -> None:
    # Lock the worker's row so two writes for one day cannot both pass the check.
    User.objects.select_for_update().filter(pk=worker.pk).first()
    if day_minutes(worker=worker, date=date, exclude_pk=exclude_pk) + minutes > MINUTES_PER_DAY:
        raise ValidationError({"hours": f"That would make more than 24 hours on {date:%a %d %b %Y}."})


@transaction.atomic
def entry_create(
    *,
    worker: User,
    date: datetime.date,
    project: str,
    hours: Any,
    notes: str = "",
    source: str = Entry.Source.WEB,
    batch_client: Client | None = None,
    external_id: str | None = None,
) -> Entry:
    minutes = hours_to_minutes(hours)
    entry = Entry(
        worker=worker,
        date=date,
        project=project.strip(),
        minutes=minutes,
        notes=notes.strip(),
        source=source,
        batch_client=batch_client,
        external_id=external_id or None,
    )
    entry.full_clean(exclude=["batch_client", "decided_by", "worker"])
    _check_day_total(worker=worker, date=date, minutes=minutes)
    entry.save()
    return entry


@transaction.atomic
def entry_update(
    *,
    entry: Entry,
    date: datetime.date | None = None,
    project: str | None = None,
    hours: Any = None,
    notes: str | None = None,
) -> Entry:
    """Edit a draft, or correct a rejected entry (which makes it a draft again).

    Submitted time waits for a decision and approved time is final.
    """
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    if entry.status not in {Entry.Status.DRAFT, Entry.Status.REJECTED}:
        raise InvalidTransition(f"Only draft or rejected entries can be edited; this one is {entry.status}.")
    entry.status, entry.rejection_reason = Entry.Status.DRAFT, ""
    if date is not None:
        entry.date = date
    if project is not None:
        entry.project = project.strip()
    if notes is not None:
        entry.notes = notes.strip()
    if hours is not None:
        entry.minutes = hours_to_minutes(hours)
    entry.full_clean(exclude=["batch_client", "decided_by", "worker"])
    _check_day_total(worker=entry.worker, date=entry.date, minutes=entry.minutes, exclude_pk=entry.pk)
    entry.save()
    return entry


@transaction.atomic
def entry_submit(*, entry: Entry) -> Entry:
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    if entry.status != Entry.Status.DRAFT:
        raise InvalidTransition(f"Only draft entries can be submitted; this one is {entry.status}.")
    entry.status = Entry.Status.SUBMITTED
    entry.save(update_fields=["status", "updated_at"])
    return entry


@transaction.atomic
def week_submit(*, worker: User, monday: datetime.date) -> int:
    """Submit every draft of the week starting ``monday``; returns how many."""
    return Entry.objects.filter(
        worker=worker, status=Entry.Status.DRAFT, date__range=(monday, monday + datetime.timedelta(days=6))
    ).update(status=Entry.Status.SUBMITTED, updated_at=timezone.now())


@transaction.atomic
def entry_delete(*, entry: Entry) -> None:
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    if entry.status == Entry.Status.APPROVED:
        raise InvalidTransition("Approved entries cannot be deleted.")
    entry.delete()


@transaction.atomic
def entry_decide(*, entry: Entry, approver: User, approve: bool, reason: str = "") -> Entry:
    """Approve or reject a submitted entry of someone the approver may decide for."""
    entry = Entry.objects.select_for_update().select_related("worker").get(pk=entry.pk)
    if not may_decide(approver, entry.worker):
        own = entry.worker_id == approver.pk
        raise PermissionDenied(
            "You cannot approve your own time." if own else "You cannot decide on this entry."
        )
    if entry.status != Entry.Status.SUBMITTED:
        raise InvalidTransition(
            f"Only submitted entries can be approved or rejected; this one is {entry.status}."
        )
    if not approve and not reason.strip():
        raise ValidationError({"reason": "Say why the entry is rejected."})
    entry.status = Entry.Status.APPROVED if approve else Entry.Status.REJECTED
    entry.rejection_reason = "" if approve else reason.strip()
    entry.decided_by = approver
    entry.decided_at = timezone.now()
    entry.save(update_fields=["status", "rejection_reason", "decided_by", "decided_at", "updated_at"])
    if not approve:
        tasks.send_rejection_email.delay_on_commit(entry.pk)
    return entry


# --- Bulk upload ------------------------------------------------------------------------------


@transaction.atomic
def bulk_job_create(*, client: Client, rows: list[dict[str, Any]]) -> BulkJob:
    """Store validated rows and have a worker import them after commit."""
    job = BulkJob.objects.create(client=client, rows=rows, total=len(rows))
    tasks.bulk_import.delay_on_commit(job.pk)
    return job


def bulk_job_run(job: BulkJob) -> BulkJob:
    """Import a job's rows. Rows whose external id this client already sent are skipped, so
    sending a file twice creates nothing twice; rows that break a rule are reported."""
    BulkJob.objects.filter(pk=job.pk).update(status=BulkJob.Status.RUNNING)
    workers = {
        user.email: user for user in User.objects.filter(email__in={row["worker"] for row in job.rows})
    }
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
