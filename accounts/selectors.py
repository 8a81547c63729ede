"""Reads for the accounts dashboard pages: users, and django-axes' lockout counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from axes.models import AccessAttempt
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum

from .models import User


def user_list(*, search: str = "") -> QuerySet[User]:
    """Users for the dashboard, optionally narrowed by a case-insensitive search."""
    return _matching(User.objects.select_related("manager").order_by("email"), search)


def _matching(users: QuerySet[User], search: str) -> QuerySet[User]:
    """``users`` whose email or name contains ``search``, whatever the case."""
    if search:
        users = users.filter(Q(email__icontains=search) | Q(name__icontains=search))
    return users


@dataclass(frozen=True)
class UserPage:
    """One page of the dashboard's user list, in email order, found from a page boundary
    (keyset pagination) instead of an offset: no page costs more than the first, and
    nothing counts the whole table. ``after`` and ``before`` are the emails the links to
    the next and the previous page start after and end before (``None``: no such page)."""

    rows: list[dict[str, Any]]
    after: str | None
    before: str | None


def user_page(*, search: str = "", after: str = "", before: str = "", size: int = 50) -> UserPage:
    """The ``size`` users after the email ``after`` or before the email ``before`` (the
    first ones when neither is given), optionally narrowed by a case-insensitive search of
    email and name. Rows hold only what the list shows."""
    users = _matching(User.objects.all(), search)
    if before:
        rows = _user_rows(users.filter(email__lt=before).order_by("-email"), size + 1)[::-1]
        if len(rows) > size:
            return UserPage(rows=rows[1:], after=rows[-1]["email"], before=rows[1]["email"])
        after = ""  # fewer than a page before it: the first page, full, not a short one
    rows = _user_rows((users.filter(email__gt=after) if after else users).order_by("email"), size + 1)
    more = len(rows) > size
    rows = rows[:size]
    return UserPage(
        rows=rows,
        after=rows[-1]["email"] if more else None,
        before=rows[0]["email"] if after and rows else None,
    )


def _user_rows(users: QuerySet[User], limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` of ``users``, as plain rows with the worker type's label."""
    labels = dict(User.WorkerType.choices)
    fields = ("pk", "email", "name", "worker_type", "is_active", "is_staff")
    rows = list(users.values(*fields, manager_email=F("manager__email"))[:limit])
    for row in rows:
        row["worker_type_label"] = labels.get(row["worker_type"], row["worker_type"])
    return rows


def lockout_attempts() -> QuerySet[AccessAttempt]:
    """django-axes' failure counters (one per account, address and browser), with the
    account's total from every address (``account_failures``: what locks it), most first.

    Usernames are what ``accounts.identifiers.axes_username`` stored: valid emails or a
    redacted marker, never a password typed into the email field.
    """
    account_total = (
        AccessAttempt.objects.filter(username=OuterRef("username"))
        .values("username")
        .annotate(total=Sum("failures_since_start"))
        .values("total")
    )
    return AccessAttempt.objects.annotate(account_failures=Subquery(account_total)).order_by(
        "-account_failures", "-failures_since_start", "-attempt_time"
    )[:200]
