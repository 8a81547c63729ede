"""Reads for the accounts dashboard pages: users, and django-axes' lockout counters."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone

from .models import User


def user_list(*, search: str = "") -> QuerySet[User]:
    """Users for the dashboard, optionally narrowed by a case-insensitive search."""
    users = User.objects.filter(deleted_at__isnull=True).select_related("manager").order_by("email")
    return _matching(users, search)


def _matching(users: QuerySet[User], search: str) -> QuerySet[User]:
    """``users`` whose email or name contains ``search``, whatever the case."""
    if search:
        users = users.filter(Q(email__icontains=search) | Q(name__icontains=search))
    return users


STATUSES = ("active", "invited", "blocked", "deleted")
SORTS = ("email", "last_sign_in")
UNUSABLE_PASSWORD = Q(password__startswith=UNUSABLE_PASSWORD_PREFIX)
STATUS_FILTERS = {
    "": Q(deleted_at__isnull=True),  # everyone but the tombstones
    "active": Q(deleted_at__isnull=True, is_active=True) & ~UNUSABLE_PASSWORD,
    "invited": Q(deleted_at__isnull=True, is_active=True) & UNUSABLE_PASSWORD,
    "blocked": Q(deleted_at__isnull=True, is_active=False),
    "deleted": Q(deleted_at__isnull=False),
}
# What User.status answers, in SQL.
USER_STATUS = Case(
    When(deleted_at__isnull=False, then=Value("deleted")),
    When(is_active=False, then=Value("blocked")),
    When(UNUSABLE_PASSWORD, then=Value("invited")),
    default=Value("active"),
)


@dataclass(frozen=True)
class UserPage:
    """One page of the dashboard's user list, in email order or by last sign-in (newest
    first, never last, then email), found from a page boundary (keyset pagination) instead
    of an offset: no page costs more than the first, and nothing counts the whole table.
    ``after`` and ``before`` are the boundaries the links to the next and the previous page
    start after and end before (``None``: no such page): an email, or for the sign-in order
    ``<ISO time>|<email>`` (no time for someone who never signed in)."""

    rows: list[dict[str, Any]]
    after: str | None
    before: str | None


@dataclass(frozen=True)
class _Order:
    """How one sort order finds the rows after and before a boundary, and names a row's."""

    forward: tuple[Any, ...]
    backward: tuple[Any, ...]
    after: Callable[[str], Q]
    before: Callable[[str], Q]
    boundary: Callable[[dict[str, Any]], str]


def _login_boundary(boundary: str) -> tuple[datetime | None, str]:
    time, _, email = boundary.partition("|")
    try:
        return (datetime.fromisoformat(time) if time else None), email
    except ValueError:
        return None, ""  # a mangled link: start from the people who never signed in


def _after_login(boundary: str) -> Q:
    time, email = _login_boundary(boundary)
    if time is None:
        return Q(last_login__isnull=True, email__gt=email)
    return Q(last_login__lt=time) | Q(last_login=time, email__gt=email) | Q(last_login__isnull=True)


def _before_login(boundary: str) -> Q:
    time, email = _login_boundary(boundary)
    if time is None:
        return Q(last_login__isnull=False) | Q(last_login__isnull=True, email__lt=email)
    return Q(last_login__gt=time) | Q(last_login=time, email__lt=email)


def _row_login_boundary(row: dict[str, Any]) -> str:
    time = row["last_login"]
    return f"{time.isoformat() if time else ''}|{row['email']}"


ORDERS = {
    "email": _Order(
        forward=("email",),
        backward=("-email",),
        after=lambda email: Q(email__gt=email),
        before=lambda email: Q(email__lt=email),
        boundary=lambda row: row["email"],
    ),
    "last_sign_in": _Order(
        forward=(F("last_login").desc(nulls_last=True), "email"),
        backward=(F("last_login").asc(nulls_first=True), "-email"),
        after=_after_login,
        before=_before_login,
        boundary=_row_login_boundary,
    ),
}


def user_page(
    *,
    search: str = "",
    status: str = "",
    sort: str = "email",
    after: str = "",
    before: str = "",
    size: int = 50,
) -> UserPage:
    """The ``size`` users after the boundary ``after`` or before ``before`` (the first ones
    when neither is given) in the ``sort`` order, optionally narrowed by a case-insensitive
    search of email and name and by ``status`` (deleted people only when asked for). Rows
    hold only what the list shows."""
    order = ORDERS.get(sort, ORDERS["email"])
    users = _matching(User.objects.filter(STATUS_FILTERS.get(status, STATUS_FILTERS[""])), search)
    if before:
        rows = _user_rows(users.filter(order.before(before)).order_by(*order.backward), size + 1)[::-1]
        if len(rows) > size:
            return UserPage(rows=rows[1:], after=order.boundary(rows[-1]), before=order.boundary(rows[1]))
        after = ""  # fewer than a page before it: the first page, full, not a short one
    rows = _user_rows(
        (users.filter(order.after(after)) if after else users).order_by(*order.forward), size + 1
    )
    more = len(rows) > size
    rows = rows[:size]
    return UserPage(
        rows=rows,
        after=order.boundary(rows[-1]) if more else None,
        before=order.boundary(rows[0]) if after and rows else None,
    )


def _user_rows(users: QuerySet[User], limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` of ``users``, as plain rows with the worker type's label."""
    labels = dict(User.WorkerType.choices)
    fields = ("pk", "email", "former_email", "name", "worker_type", "is_staff", "last_login")
    rows = list(users.values(*fields, manager_email=F("manager__email"), status=USER_STATUS)[:limit])
    for row in rows:
        row["worker_type_label"] = labels.get(row["worker_type"], row["worker_type"])
    return rows


LOCKOUT_ROWS = 200


@dataclass(frozen=True)
class Lockout:
    """One of django-axes' failure counters (an account, address and browser) and where its
    account stands.

    ``state`` is ``locked`` (``until``: when the lockout lifts; None when it lasts until
    cleared), ``counting`` (``failures`` of the limit still count; ``until``: when this row's
    stop counting) or ``expired`` (older than the cool-off, so it no longer counts; axes
    deletes it at the next sign-in attempt; ``until``: when it expired).
    """

    attempt: AccessAttempt
    state: str
    failures: int
    until: datetime | None

    @property
    def pk(self) -> int:
        return self.attempt.pk


_STATE_ORDER = {"locked": 0, "counting": 1, "expired": 2}


def _lifts_at(live: list[tuple[datetime, int]], limit: int, cool_off: timedelta | None) -> datetime | None:
    """When an account whose counting failures are ``live`` (time and failures, newest first)
    stops being locked: when the newest rows no longer add up to ``limit``, i.e. when the row
    that brings them to it expires. None: never by itself (no cool-off)."""
    total = 0
    for attempt_time, failures in live:
        total += failures
        if total >= limit:
            return attempt_time + cool_off if cool_off is not None else None
    return None


def lockout_attempts(*, now: datetime | None = None) -> list[Lockout]:
    """django-axes' newest failure counters, each with its account's state: locked ones
    first, then those still counting, then the expired ones, newest first in each.

    An account locks when its failures from every address within the cool-off
    (``AXES_COOLOFF_TIME``, counted from each attempt's time, as axes does) reach
    ``AXES_FAILURE_LIMIT``. Usernames are what ``accounts.identifiers.axes_username``
    stored: valid emails or a redacted marker, never a password typed into the email field.
    Two queries.
    """
    now = now or timezone.now()
    cool_off, limit = get_cool_off(), settings.AXES_FAILURE_LIMIT
    attempts = list(AccessAttempt.objects.order_by("-attempt_time", "-pk")[:LOCKOUT_ROWS])
    names = {attempt.username for attempt in attempts if attempt.username is not None}
    live: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for username, attempt_time, failures in (
        AccessAttempt.objects.filter(username__in=names)
        .order_by("-attempt_time")
        .values_list("username", "attempt_time", "failures_since_start")
    ):
        if cool_off is None or attempt_time + cool_off > now:
            live[username].append((attempt_time, failures))
    rows = []
    for attempt in attempts:
        expires = attempt.attempt_time + cool_off if cool_off is not None else None
        account = live[attempt.username] if attempt.username is not None else []
        counted = sum(failures for _, failures in account)
        if expires is not None and expires <= now:
            rows.append(Lockout(attempt, "expired", 0, expires))
        elif counted >= limit:
            rows.append(Lockout(attempt, "locked", counted, _lifts_at(account, limit, cool_off)))
        else:
            rows.append(Lockout(attempt, "counting", counted, expires))
    # Stable: each state keeps the newest-first order.
    return sorted(rows, key=lambda row: _STATE_ORDER[row.state])
