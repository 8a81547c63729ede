"""What the dashboard's overview shows, counted with one grouped query per chart.

Sign-ins, failures, lockouts and security events come from the audit log (the names
``accounts.security_events``, ``accounts.decorators`` and ``authz.oauth.validators`` record);
access tokens from ``authz.models.TokenIssuance``, counted per UTC day as they are issued;
the approvals backlog from the timesheet entries waiting for a decision. All times are UTC.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, IntegerField, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Trunc, TruncWeek

from accounts.models import AuditEntry, User
from authz.models import TokenIssuance
from authz.oauth import issuance_counts

from .models import Entry

SIGN_IN = "security.login"
SIGN_IN_FAILED = "security.login_failure"
LOCKOUT = "security.lockout"
DASHBOARD_DENIED = "security.dashboard_denied"
# The security events the overview counts, in the order it shows them, with their names.
SECURITY_EVENTS = {
    "security.code_replay": "Authorization code replays",
    "security.refresh_reuse": "Refresh-token reuse",
    "token.revoke": "Tokens revoked by their application",
    "refresh_token.revoke": "Refresh tokens revoked by staff",
    "grant.revoke": "Access revoked by its owner",
    "consent.revoke": "Consents revoked",
    DASHBOARD_DENIED: "Denied dashboard access",
}
BACKLOG_WEEKS = 8  # weeks of waiting hours shown one by one; earlier ones are summed


@dataclass(frozen=True)
class Window:
    """The range the overview covers: hourly buckets for a day, daily ones beyond."""

    key: str
    label: str
    start: datetime
    end: datetime
    hourly: bool
    buckets: list[datetime]

    @property
    def days(self) -> list[date]:
        """The UTC days the window touches (token counts are kept per day)."""
        first, last = self.start.date(), self.end.date()
        return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]

    def bucket_label(self, bucket: datetime) -> str:
        return f"{bucket:%H}:00" if self.hourly else f"{bucket:%d %b}"


RANGES = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days"}
DEFAULT_RANGE = "7d"


def window_for(key: str, *, now: datetime) -> Window:
    """The window named ``key`` (one of ``RANGES``) ending at ``now``."""
    if key == "24h":
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        buckets = [hour - timedelta(hours=23 - offset) for offset in range(24)]
        return Window(key, RANGES[key], buckets[0], now, True, buckets)
    days = 7 if key == "7d" else 30
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    buckets = [today - timedelta(days=days - 1 - offset) for offset in range(days)]
    return Window(key, RANGES[key], buckets[0], now, False, buckets)


@dataclass(frozen=True)
class SignIns:
    signed_in: list[int]
    failed: list[int]
    lockouts: list[int]


def sign_ins(window: Window) -> SignIns:
    """Successful and failed sign-ins and lockouts per bucket of ``window``."""
    rows = (
        AuditEntry.objects.filter(action__in=(SIGN_IN, SIGN_IN_FAILED, LOCKOUT), at__gte=window.start)
        .annotate(bucket=Trunc("at", "hour" if window.hourly else "day", tzinfo=UTC))
        .order_by()
        .values("bucket", "action")
        .annotate(count=Count("id"))
    )
    counts = {(row["bucket"], row["action"]): row["count"] for row in rows}

    def per_bucket(action: str) -> list[int]:
        return [counts.get((bucket, action), 0) for bucket in window.buckets]

    return SignIns(per_bucket(SIGN_IN), per_bucket(SIGN_IN_FAILED), per_bucket(LOCKOUT))


def security_events(window: Window) -> dict[str, int]:
    """How many of each security event happened in ``window``, in ``SECURITY_EVENTS`` order.

    A denied dashboard request repeated within a minute adds to its entry's ``count``
    (``accounts.decorators``), so denials are counted as attempts, not entries.
    """
    rows = (
        AuditEntry.objects.filter(action__in=SECURITY_EVENTS, at__gte=window.start)
        .order_by()
        .values("action")
        .annotate(entries=Count("id"), attempts=Sum(Cast(KT("after__count"), IntegerField())))
    )
    found = {
        row["action"]: (row["attempts"] or row["entries"])
        if row["action"] == DASHBOARD_DENIED
        else row["entries"]
        for row in rows
    }
    return {action: found.get(action, 0) for action in SECURITY_EVENTS}


@dataclass(frozen=True)
class Tokens:
    days: list[date]
    by_grant_type: dict[str, list[int]]  # grant type -> one count per day
    by_api: list[tuple[str, int]]  # audience -> total, most first ("" is /userinfo alone)
    by_client: list[tuple[str, int]]  # client id -> total, most first

    @property
    def total(self) -> int:
        return sum(sum(counts) for counts in self.by_grant_type.values())


def tokens(window: Window) -> Tokens:
    """Access tokens issued on each UTC day ``window`` touches, by grant type, API and client."""
    issuance_counts.flush()  # this process's latest counts first
    days = window.days
    rows = (
        TokenIssuance.objects.filter(day__gte=days[0], day__lte=days[-1])
        .order_by()
        .values("day", "grant_type", "audience", "client_id")
        .annotate(total=Sum("count"))
    )
    per_day: dict[tuple[date, str], int] = Counter()
    apis: Counter[str] = Counter()
    clients: Counter[str] = Counter()
    for row in rows:
        per_day[row["day"], row["grant_type"]] += row["total"]
        apis[row["audience"]] += row["total"]
        clients[row["client_id"]] += row["total"]
    return Tokens(
        days=days,
        by_grant_type={
            grant_type: [per_day.get((day, grant_type), 0) for day in days]
            for grant_type in TokenIssuance.GrantType.values
        },
        by_api=sorted(apis.items(), key=lambda item: (-item[1], item[0])),
        by_client=sorted(clients.items(), key=lambda item: (-item[1], item[0])),
    )


@dataclass(frozen=True)
class Backlog:
    entries: int
    hours: Decimal
    weeks: list[tuple[date | None, Decimal]] = field(default_factory=list)  # None: the earlier weeks
    oldest: Entry | None = None
    oldest_worker: User | None = None


def approvals_backlog() -> Backlog:
    """Submitted entries waiting for a decision: hours per week of work, and the oldest one."""
    rows = (
        Entry.objects.filter(status=Entry.Status.SUBMITTED)
        .annotate(week=TruncWeek("date"))
        .order_by("-week")
        .values("week")
        .annotate(minutes=Sum("minutes"), entries=Count("id"))
    )
    weeks = [(row["week"], Decimal(row["minutes"]) / 60, row["entries"]) for row in rows]
    shown = [(week, hours) for week, hours, _ in weeks[:BACKLOG_WEEKS]]
    earlier = sum((hours for _, hours, _ in weeks[BACKLOG_WEEKS:]), Decimal(0))
    if earlier:
        shown.append((None, earlier))
    oldest = (
        Entry.objects.filter(status=Entry.Status.SUBMITTED)
        .select_related("worker")
        .order_by("date", "id")
        .first()
    )
    return Backlog(
        entries=sum(count for _, _, count in weeks),
        hours=sum((hours for _, hours, _ in weeks), Decimal(0)),
        weeks=list(reversed(shown)),
        oldest=oldest,
        oldest_worker=oldest.worker if oldest else None,
    )
