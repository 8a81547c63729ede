"""The logs: every event and administrative change in the audit log, filtered, paged by key,
shown whole and exported; and their retention.

The filters are the query parameters other pages link with: ``type`` (a prefix of the
event's type, ``token.`` or ``security.login``), ``user`` (an email: the person who acted,
or whom a sign-in failure or lockout was about), ``client`` (a client id), ``api`` (an API
identifier), ``ip``, and ``from`` / ``to`` (ISO dates or times; a date alone covers its
whole day, in the current time zone).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .identifiers import login_identifier
from .models import AuditEntry

PAGE_SIZE = 50
EXPORT_CHUNK = 2000
PURGE_BATCH = 10_000

# Offered as you type in the type filter; any other prefix works as well.
KNOWN_TYPES = (
    ("token.", "Token endpoint: all"),
    ("token.issue.", "Tokens issued"),
    ("token.issue.refresh_token", "Refresh tokens exchanged"),
    ("token.issue.device_code", "Tokens for devices (device flow)"),
    ("token.failure.", "Token requests refused"),
    ("token.revoke", "Tokens revoked"),
    ("security.login", "Sign-ins and failed sign-ins"),
    ("security.login_failure", "Failed sign-ins"),
    ("security.logout", "Sign-outs"),
    ("security.lockout", "Lockouts"),
    ("security.mfa.failure", "Wrong second factors (codes, passkeys)"),
    ("security.", "Security events"),
    ("mfa.", "Second factors: set up, removed, reset, recovery codes used"),
    ("consent.", "Consents"),
)


# --- Filters --------------------------------------------------------------------------------


def _moment(value: str, *, end: bool) -> datetime:
    """An ISO date or time as a UTC moment; a date is its midnight, or the next one for ``end``."""
    try:
        # A date first: Python reads "2026-11-30" as a datetime too, at its midnight.
        day = parse_date(value)
        moment = None if day is not None else parse_datetime(value)
    except ValueError:
        moment = day = None
    try:
        if day is not None:
            midnight = datetime.combine(day + timedelta(days=1) if end else day, time.min)
            return timezone.make_aware(midnight).astimezone(UTC)
        if moment is not None:
            return (moment if timezone.is_aware(moment) else timezone.make_aware(moment)).astimezone(UTC)
    except OverflowError:
        raise ValidationError("That is beyond the calendar.") from None
    raise ValidationError("Enter a date (2026-11-30) or a date and time (2026-11-30T14:00).")


class MomentField(forms.CharField):
    """An ISO date or date and time; cleaned to ``(text, moment)``."""

    def __init__(self, *, end: bool, **kwargs: Any) -> None:
        self.end = end
        super().__init__(required=False, max_length=40, **kwargs)

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        return _moment(text, end=self.end) if text else None


def _search(placeholder: str) -> forms.TextInput:
    return forms.TextInput(attrs={"type": "search", "placeholder": placeholder})


class LogFilterForm(forms.Form):
    """The logs' filters; ``from`` and ``to`` are added below (Python keywords)."""

    type = forms.CharField(
        required=False,
        max_length=60,
        label="Type",
        widget=forms.TextInput(attrs={"type": "search", "list": "log-types", "placeholder": "e.g. token."}),
    )
    user = forms.CharField(required=False, max_length=254, label="Person", widget=_search("Email"))
    client = forms.CharField(required=False, max_length=100, label="Application", widget=_search("Client id"))
    api = forms.CharField(required=False, max_length=200, label="API", widget=_search("API identifier"))
    ip = forms.CharField(
        required=False,
        max_length=45,
        label="Address",
        validators=[validate_ipv46_address],
        widget=_search("IP"),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("from"), cleaned.get("to")
        if since and until and until < since:
            self.add_error("to", "The end is before the start.")
        return cleaned


_MOMENT_HELP = "A date, or a date and time (ISO)."
LogFilterForm.base_fields["from"] = MomentField(
    end=False, label="From", help_text=_MOMENT_HELP, widget=_search("2026-11-30")
)
LogFilterForm.base_fields["to"] = MomentField(
    end=True, label="To", help_text=_MOMENT_HELP, widget=_search("2026-11-30")
)


def log_entries(filters: dict[str, Any]) -> QuerySet[AuditEntry]:
    """The entries ``filters`` (a valid ``LogFilterForm``'s cleaned data) select, unordered."""
    entries = AuditEntry.objects.all()
    if filters.get("type"):
        entries = entries.filter(action__startswith=filters["type"])
    if filters.get("user"):
        email = login_identifier(filters["user"])
        entries = entries.filter(Q(actor_label=email) | Q(target_label=email))
    if filters.get("client"):
        entries = entries.filter(client_id=filters["client"])
    if filters.get("api"):
        entries = entries.filter(audience=filters["api"])
    if filters.get("ip"):
        entries = entries.filter(ip=filters["ip"])
    if filters.get("from"):
        entries = entries.filter(at__gte=filters["from"])
    if filters.get("to"):
        entries = entries.filter(at__lt=filters["to"])
    return entries


# --- Paging by key ----------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CURSOR_DIGITS = 16


def cursor_of(entry: AuditEntry) -> str:
    """A page boundary: the entry's time (in microseconds) and id, which order the log."""
    return f"{(entry.at - _EPOCH) // timedelta(microseconds=1)}_{entry.pk}"


def _parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    micros, _, pk = cursor.partition("_")
    if not (micros.isascii() and micros.isdigit() and pk.isascii() and pk.isdigit()):
        return None
    if len(micros) > CURSOR_DIGITS or len(pk) > CURSOR_DIGITS:
        return None  # past any date Python can hold
    return _EPOCH + timedelta(microseconds=int(micros)), int(pk)


@dataclass(frozen=True)
class LogPage:
    """One page of entries, newest first, and the cursors to its neighbours (None: none)."""

    entries: list[AuditEntry]
    newer: str | None
    older: str | None


def log_page(entries: QuerySet[AuditEntry], *, before: str = "", after: str = "") -> LogPage:
    """The page of ``entries`` just older than the cursor ``before``, or just newer than
    ``after``, or the newest. Keys, not offsets: a page costs the same however deep, and
    entries written meanwhile do not shift it."""
    older_than, newer_than = _parse_cursor(before), _parse_cursor(after)
    if newer_than is not None:
        at, pk = newer_than
        rows = list(entries.filter(Q(at__gt=at) | Q(at=at, pk__gt=pk)).order_by("at", "id")[: PAGE_SIZE + 1])
        more_newer = len(rows) > PAGE_SIZE
        page = rows[:PAGE_SIZE][::-1]
        return LogPage(
            page, cursor_of(page[0]) if more_newer else None, cursor_of(page[-1]) if page else None
        )
    if older_than is not None:
        at, pk = older_than
        entries = entries.filter(Q(at__lt=at) | Q(at=at, pk__lt=pk))
    rows = list(entries.select_related(None).order_by("-at", "-id")[: PAGE_SIZE + 1])
    page = rows[:PAGE_SIZE]
    newer = cursor_of(page[0]) if older_than is not None and page else None
    return LogPage(page, newer, cursor_of(page[-1]) if len(rows) > PAGE_SIZE else None)


# --- One entry whole, and exports -------------------------------------------------------------


def entry_as_dict(entry: AuditEntry) -> dict[str, Any]:
    """Everything the log holds about ``entry``, as JSON (the detail page and the exports)."""
    return {
        "id": entry.pk,
        "at": entry.at.isoformat(),
        "type": entry.action,
        "actor": entry.actor_label,
        "actor_id": entry.actor_id,
        "target": {"type": entry.target_type, "id": entry.target_id, "label": entry.target_label},
        "ip": entry.ip,
        "user_agent": entry.user_agent,
        "client_id": entry.client_id,
        "audience": entry.audience,
        "before": entry.before,
        "after": entry.after,
        "details": entry.details,
        "request_id": entry.request_id,
    }


SUMMARY_KEYS = ("reason", "error", "error_description", "scope", "grant_type")
SUMMARY_MAX = 160


def entry_summary(entry: AuditEntry) -> str:
    """A line about ``entry`` for the list: why it failed, or what it granted."""
    details = entry.details if isinstance(entry.details, dict) else {}
    parts = [f"{key}: {details[key]}" for key in SUMMARY_KEYS if details.get(key)]
    if not parts and isinstance(entry.after, dict):
        parts = [f"{key}: {value}" for key, value in entry.after.items() if value not in (None, "", [], {})]
    text = "; ".join(parts)
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


CSV_COLUMNS = (
    "id",
    "at",
    "type",
    "actor",
    "actor_id",
    "target_type",
    "target_id",
    "target",
    "ip",
    "user_agent",
    "client_id",
    "audience",
    "before",
    "after",
    "details",
    "request_id",
)
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """``value`` as a CSV cell no spreadsheet runs: a leading ' where it would be a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _csv_row(entry: AuditEntry) -> list[str]:
    def as_json(value: Any) -> str:
        return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    cells = [
        str(entry.pk),
        entry.at.isoformat(),
        entry.action,
        entry.actor_label,
        str(entry.actor_id or ""),
        entry.target_type,
        entry.target_id,
        entry.target_label,
        entry.ip or "",
        entry.user_agent,
        entry.client_id,
        entry.audience,
        as_json(entry.before),
        as_json(entry.after),
        as_json(entry.details),
        entry.request_id,
    ]
    return [spreadsheet_safe(cell) for cell in cells]


class _Line:
    """A file-like target for csv.writer that hands back what was written."""

    def write(self, value: str) -> str:
        return value


def _ordered(entries: QuerySet[AuditEntry]) -> Iterable[AuditEntry]:
    return entries.order_by("-at", "-id").iterator(chunk_size=EXPORT_CHUNK)


def export_csv(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    """``entries`` newest first as CSV lines, produced as they are read."""
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    for entry in _ordered(entries):
        yield writer.writerow(_csv_row(entry))


def export_json(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    """``entries`` newest first as one JSON array, produced as they are read."""
    yield "["
    separator = "\n"
    for entry in _ordered(entries):
        yield separator + json.dumps(entry_as_dict(entry), ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"


# --- Retention --------------------------------------------------------------------------------


def log_entries_purge(*, now: datetime | None = None) -> int:
    """Delete the entries older than ``LOG_RETENTION_DAYS`` (0 keeps every one); how many.

    In batches, so that a first clean-up of a large log holds no long lock.
    """
    days = settings.LOG_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        batch = list(AuditEntry.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[:PURGE_BATCH])
        if not batch:
            return deleted
        deleted += AuditEntry.objects.filter(pk__in=batch).delete()[0]
