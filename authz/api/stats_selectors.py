"""Daily statistics counted from the records that last: the audit log's sign-in events and
the daily count of access tokens issued.

Every password sign-in that succeeds is audited as ``security.login`` (Django's
``user_logged_in``), and every one that fails as ``security.login_failure`` (Django's
``user_login_failed``: a wrong password, an unknown account, or an attempt while django-axes
holds the account locked); the audit log is never pruned. django-axes' own tables are not
used: its attempts are cleared by a successful sign-in and expire, so they undercount.

Access tokens are counted as they are issued, in ``authz.models.TokenIssuance`` (see
``authz.oauth.issuance_counts``): by grant type, audience and client, per UTC day. The stored
tokens could not serve: a machine client's are never stored and people's rows are deleted
when they expire, rotate or are revoked. Each process writes its counts every few seconds,
so another process's last seconds may not be in yet; this process's are written first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from accounts.models import AuditEntry
from authz.models import TokenIssuance
from authz.oauth import issuance_counts

SIGN_IN = "security.login"
SIGN_IN_FAILED = "security.login_failure"


@dataclass(frozen=True)
class DayStats:
    date: date
    sign_ins_successful: int
    sign_ins_failed: int
    access_tokens_issued: int = 0
    # Every grant type we issue for, 0 when none was issued with it.
    access_tokens_by_grant_type: dict[str, int] = field(default_factory=dict)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _sign_ins(*, since: date, until: date) -> dict[tuple[date, str], int]:
    entries = AuditEntry.objects.filter(action__in=(SIGN_IN, SIGN_IN_FAILED), at__gte=_start_of(since))
    if until < date.max:
        entries = entries.filter(at__lt=_start_of(until + timedelta(days=1)))
    return {
        (row["day"], row["action"]): row["count"]
        for row in entries.annotate(day=TruncDate("at", tzinfo=UTC))
        .order_by()
        .values("day", "action")
        .annotate(count=Count("id"))
    }


def _tokens(*, since: date, until: date) -> dict[date, Counter[str]]:
    """Access tokens issued per day and grant type, with this process's latest counts."""
    issuance_counts.flush()
    tokens: dict[date, Counter[str]] = {}
    rows = (
        TokenIssuance.objects.filter(day__gte=since, day__lte=until)
        .order_by()
        .values("day", "grant_type")
        .annotate(total=Sum("count"))
    )
    for row in rows:
        tokens.setdefault(row["day"], Counter())[row["grant_type"]] += row["total"]
    return tokens


def daily_stats(*, since: date, until: date) -> list[DayStats]:
    """One entry per UTC day from ``since`` to ``until`` (both included), oldest first."""
    if until < since:
        return []
    sign_ins = _sign_ins(since=since, until=until)
    tokens = _tokens(since=since, until=until)
    days = (since + timedelta(days=offset) for offset in range((until - since).days + 1))
    return [
        DayStats(
            date=day,
            sign_ins_successful=sign_ins.get((day, SIGN_IN), 0),
            sign_ins_failed=sign_ins.get((day, SIGN_IN_FAILED), 0),
            access_tokens_issued=sum(tokens.get(day, Counter()).values()),
            access_tokens_by_grant_type={
                grant_type: tokens.get(day, Counter())[grant_type]
                for grant_type in TokenIssuance.GrantType.values
            },
        )
        for day in days
    ]
