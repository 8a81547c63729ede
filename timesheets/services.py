"""Writes to a person's own time: log, edit, submit and delete entries, by the rules of the day.

The API, the web pages and the bulk import all come through here. The writes that enqueue
Celery work sit above ``tasks`` so that the dependency runs one way: decisions on entries in
``decisions``, accepting a bulk upload in ``bulk_upload``; the import a worker runs is in
``bulk_import``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.errors import Conflict
from accounts.models import User
from clients.models import Client

from .models import MINUTES_PER_DAY, Entry
from .selectors import day_minutes, week_range


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
        # What is stored decides, not the request's form: a Conflict (409 at the API).
        raise Conflict({"hours": f"That would make more than 24 hours on {date:%a %d %b %Y}."})


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
        worker=worker, status=Entry.Status.DRAFT, date__range=week_range(monday)
    ).update(status=Entry.Status.SUBMITTED, updated_at=timezone.now())


DELETABLE = frozenset({Entry.Status.DRAFT, Entry.Status.REJECTED})


@transaction.atomic
def entry_delete(*, entry: Entry) -> None:
    """Delete a draft or a rejected entry.

    Submitted time waits for the manager's decision: withdrawing it would pull it out from
    under the approver, so it is as fixed for its author as approved time (409 at the API).
    """
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    if entry.status not in DELETABLE:
        raise InvalidTransition(f"Only draft or rejected entries can be deleted; this one is {entry.status}.")
    entry.delete()
