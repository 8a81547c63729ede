"""Daily statistics counted from the records that last: the audit log's sign-in events.

Every password sign-in that succeeds is audited as ``security.login`` (Django's
``user_logged_in``), and every one that fails as ``security.login_failure`` (Django's
``user_login_failed``: a wrong password, an unknown account, or an attempt while django-axes
holds the account locked); the audit log is never pruned. django-axes' own tables are not
used: its attempts are cleared by a successful sign-in and expire, so they undercount.

Access tokens have no such record. A machine client's tokens are never stored (see
``authz.oauth.validators.OAuth2Validator.save_bearer_token`` and the client-credentials fast
path), and people's token rows are deleted when they expire, rotate or are revoked, so
counting rows would report a fraction of what was issued: the count is left unknown (None)
rather than invented, until issuance keeps a durable daily counter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate

from accounts.models import AuditEntry

SIGN_IN = "security.login"
SIGN_IN_FAILED = "security.login_failure"


@dataclass(frozen=True)
class DayStats:
    date: date
    sign_ins_successful: int
    sign_ins_failed: int
    access_tokens_issued: int | None = None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def daily_stats(*, since: date, until: date) -> list[DayStats]:
    """One entry per UTC day from ``since`` to ``until`` (both included), oldest first."""
    if until < since:
        return []
    entries = AuditEntry.objects.filter(action__in=(SIGN_IN, SIGN_IN_FAILED), at__gte=_start_of(since))
    if until < date.max:
        entries = entries.filter(at__lt=_start_of(until + timedelta(days=1)))
    counts = {
        (row["day"], row["action"]): row["count"]
        for row in entries.annotate(day=TruncDate("at", tzinfo=UTC))
        .order_by()
        .values("day", "action")
        .annotate(count=Count("id"))
    }
    days = (since + timedelta(days=offset) for offset in range((until - since).days + 1))
    return [
        DayStats(
            date=day,
            sign_ins_successful=counts.get((day, SIGN_IN), 0),
            sign_ins_failed=counts.get((day, SIGN_IN_FAILED), 0),
        )
        for day in days
    ]
