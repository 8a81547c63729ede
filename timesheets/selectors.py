"""Reads for timesheets, already narrowed to what the caller may see."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import QuerySet, Sum

from accounts.models import User
from clients.models import Client

from .models import BulkJob, Entry
from .policies import approvable_workers, client_readable_entries

DAYS_AFTER_MONDAY = datetime.timedelta(days=6)


def week_range(monday: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Monday to Sunday, both included (for ``date__range``)."""
    return monday, monday + DAYS_AFTER_MONDAY


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
    return _entries_filtered(entries, date_from=date_from, date_to=date_to, status=status, project=project)


def entry_list_for_client(
    *,
    worker: User | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    status: str | None = None,
    project: str | None = None,
) -> QuerySet[Entry]:
    """Entries a machine client with ``read:timesheets`` reads (payroll exports): everyone's,
    or one ``worker``'s, already filtered."""
    entries = Entry.objects.filter(client_readable_entries())
    if worker is not None:
        entries = entries.filter(worker=worker)
    return _entries_filtered(entries, date_from=date_from, date_to=date_to, status=status, project=project)


def _entries_filtered(
    entries: QuerySet[Entry],
    *,
    date_from: datetime.date | None,
    date_to: datetime.date | None,
    status: str | None,
    project: str | None,
) -> QuerySet[Entry]:
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
    return Entry.objects.filter(worker=worker, date__range=week_range(monday)).order_by(
        "date", "project", "id"
    )


def approval_queue(*, approver: User) -> QuerySet[Entry]:
    return (
        Entry.objects.filter(approvable_workers(approver), status=Entry.Status.SUBMITTED)
        .exclude(worker=approver)
        .select_related("worker")
        .order_by("worker__email", "date", "id")
    )


def week_awaiting_approval(*, approver: User, worker_pk: int, monday: datetime.date) -> list[Entry]:
    """What one person submitted for one week that waits for this approver."""
    return list(approval_queue(approver=approver).filter(worker_id=worker_pk, date__range=week_range(monday)))


def bulk_job_list() -> QuerySet[BulkJob]:
    """Jobs for the staff pages, newest first. The rows (up to 10,000) are left out."""
    return BulkJob.objects.defer("rows").select_related("client").order_by("-created_at", "-id")


def bulk_job_of_client(*, pk: int, client_id: str) -> BulkJob | None:
    """A job, only for the client that uploaded it (None otherwise: others' jobs stay unknown)."""
    return BulkJob.objects.filter(pk=pk, client__client_id=client_id).first()


def person_by_pk(pk: int) -> User | None:
    return User.objects.filter(pk=pk).first()


def person_by_sub(sub: str) -> User | None:
    """The active person a token's subject names, read on every request: a person made
    inactive in any way (even a bare UPDATE) is refused by the very next request."""
    return User.objects.filter(sub=sub, is_active=True).first()


def person_by_email(email: str) -> User | None:
    """Anyone with this email, whatever its case (an approver filtering by worker)."""
    return User.objects.filter(email__iexact=email).first()


def people_by_email(emails: Iterable[str]) -> dict[str, User]:
    return {user.email: user for user in User.objects.filter(email__in=emails)}


def active_emails(emails: Iterable[str]) -> set[str]:
    """Of these emails, the ones active people sign in with."""
    return set(User.objects.filter(email__in=emails, is_active=True).values_list("email", flat=True))


def client_by_client_id(client_id: str) -> Client | None:
    return Client.objects.filter(client_id=client_id).first()


def client_is_native(client_id: str) -> bool:
    """Is the token's client a native (mobile) app? Its entries are marked as such."""
    return Client.objects.filter(client_id=client_id, app_type=Client.AppType.NATIVE).exists()
