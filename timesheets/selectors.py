from __future__ import annotations

import datetime

from django.db.models import QuerySet, Sum

from accounts.models import User

from .models import BulkJob, Entry
from .policies import approvable_workers


def entry_list(
    *,
    user: User,
    as_approver: bool = False,
    worker: User | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    status: str | None = None,
    project: str | None = None,
) -> QuerySet[Entry]:
    """Entries the caller may see: their own, or as an approver their reports' (or anyone's
    for admins), already filtered. ``worker`` narrows an approver's view to one person."""
    if as_approver:
        entries = Entry.objects.filter(approvable_workers(user))
        if worker is not None:
            entries = entries.filter(worker=worker)
    else:
        entries = Entry.objects.filter(worker=user)
    if date_from is not None:
        entries = entries.filter(date__gte=date_from)
    if date_to is not None:
        entries = entries.filter(date__lte=date_to)
    if status:
        entries = entries.filter(status=status)
    if project:
        entries = entries.filter(project=project)
    return entries.select_related("worker").order_by("-date", "-id")


def entry_visible(*, user: User, pk: int, as_approver: bool = False) -> Entry | None:
    """One entry if the caller may see it; None otherwise (its existence is not revealed)."""
    return entry_list(user=user, as_approver=as_approver).filter(pk=pk).first() or (
        entry_list(user=user).filter(pk=pk).first() if as_approver else None
    )


def day_minutes(*, worker: User, date: datetime.date, exclude_pk: int | None = None) -> int:
    entries = Entry.objects.filter(worker=worker, date=date)
    if exclude_pk is not None:
        entries = entries.exclude(pk=exclude_pk)
    return entries.aggregate(total=Sum("minutes"))["total"] or 0


def week_entries(*, worker: User, monday: datetime.date) -> QuerySet[Entry]:
    return Entry.objects.filter(
        worker=worker, date__range=(monday, monday + datetime.timedelta(days=6))
    ).order_by("date", "project", "id")


def approval_queue(*, approver: User) -> QuerySet[Entry]:
    return (
        Entry.objects.filter(approvable_workers(approver), status=Entry.Status.SUBMITTED)
        .exclude(worker=approver)
        .select_related("worker")
        .order_by("worker__email", "date", "id")
    )


def bulk_job_list() -> QuerySet[BulkJob]:
    """Jobs for the staff pages, newest first. The rows (up to 10,000) are left out."""
    return BulkJob.objects.defer("rows").select_related("client").order_by("-created_at", "-id")
