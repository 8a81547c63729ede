"""The audit log page: every administrative change and security event, filtered and paged,
newest first, with what each changed. The token endpoint's own events (one per token) are
left to the logs page (``accounts.logs_views``), which shows every entry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.apps import apps
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.views.decorators.http import require_GET

from .audit_targets import Target, audit_targets
from .dashboard import HtmxHttpRequest, render_page_or_fragment, wants_fragment
from .decorators import staff_required
from .events_tokens import FAILURE_PREFIX, ISSUE_PREFIX
from .models import AuditEntry

ENTRIES_PER_PAGE = 50
VALUE_MAX = 80  # characters of a before/after value shown before it is expanded
OLDEST_FIRST = "at"  # ``sort=at``, as on the logs page; anything else is newest first
TOKEN_ENDPOINT_EVENTS = (ISSUE_PREFIX, FAILURE_PREFIX)


# --- Filters --------------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _type_label(label: str) -> str:
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    return str(model._meta.verbose_name).capitalize()


class _RangeForm(forms.Form):
    """The filters' form: a date range must not run backwards."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("date_from"), cleaned.get("date_to")
        if since and until and until < since:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


class AuditFilter(django_filters.FilterSet):
    """Entries newest first (ties broken by id, so that pages never overlap), narrowed.

    ``q`` finds its text in the actor, the target or the action, whatever the case;
    ``actor`` matches part of the actor's email as it was then; ``action`` is a prefix
    (``role.`` finds every role change); both dates are days in the current time zone,
    inclusive.
    """

    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Who or what"}),
    )
    actor = django_filters.CharFilter(
        field_name="actor_label",
        lookup_expr="icontains",
        label="Who",
        max_length=254,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Actor email"}),
    )
    action = django_filters.CharFilter(
        lookup_expr="startswith",
        label="Action",
        max_length=60,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "e.g. role."}),
    )
    target_type = django_filters.ChoiceFilter(label="Target", empty_label="Any")
    date_from = django_filters.DateFilter(
        method="filter_date_from",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to",
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    class Meta:
        form = _RangeForm

    def __init__(self, data: QueryDict | None = None) -> None:
        # The token endpoint's events are many, and changes nothing: they are the logs'.
        entries = AuditEntry.objects.exclude(action__startswith=TOKEN_ENDPOINT_EVENTS[0]).exclude(
            action__startswith=TOKEN_ENDPOINT_EVENTS[1]
        )
        super().__init__(data, queryset=entries.select_related("actor").order_by("-at", "-id"))
        # The types of target the log holds, so that every choice finds something.
        target_types = (
            AuditEntry.objects.exclude(target_type="")
            .order_by("target_type")
            .values_list("target_type", flat=True)
            .distinct()
        )
        self.filters["target_type"].extra["choices"] = [(value, _type_label(value)) for value in target_types]

    # A day runs from its midnight to the next in the current time zone; a bare date
    # compared with a timestamp would be a naive midnight.
    def filter_date_from(
        self, queryset: QuerySet[AuditEntry], name: str, value: date
    ) -> QuerySet[AuditEntry]:
        return queryset.filter(at__gte=_start_of(value))

    def filter_date_to(self, queryset: QuerySet[AuditEntry], name: str, value: date) -> QuerySet[AuditEntry]:
        return queryset.filter(at__lt=_start_of(value + timedelta(days=1)))

    def filter_search(self, queryset: QuerySet[AuditEntry], name: str, value: str) -> QuerySet[AuditEntry]:
        return queryset.filter(
            Q(actor_label__icontains=value) | Q(target_label__icontains=value) | Q(action__icontains=value)
        )


# --- Before and after -----------------------------------------------------------------------


def _short(value: str | None) -> str | None:
    if value is None or len(value) <= VALUE_MAX:
        return None
    return value[: VALUE_MAX - 1] + "…"


@dataclass(frozen=True)
class Change:
    """One field of an entry's before/after, in full; ``None`` on a side means "not there".

    ``before_short`` and ``after_short`` are what the table shows of a side too long to read
    at a glance (None when it is short enough to show whole); the page expands it in full.
    """

    field: str
    before: str | None
    after: str | None

    @property
    def before_short(self) -> str | None:
        return _short(self.before)

    @property
    def after_short(self) -> str | None:
        return _short(self.after)


@dataclass(frozen=True)
class AuditRow:
    """One entry of the page, what it changed and its target; unpacks as ``(entry, changes)``."""

    entry: AuditEntry
    changes: list[Change]
    target: Target

    def __iter__(self) -> Iterator[Any]:
        return iter((self.entry, self.changes))


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _shown(value: Any) -> str:
    if _empty(value):
        return "—"
    if isinstance(value, list):
        text = ", ".join(item if isinstance(item, str) else json.dumps(item) for item in value)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def entry_changes(entry: AuditEntry) -> list[Change]:
    """What the entry changed, compactly.

    Unchanged fields are left out, and so are empty ones on a creation or deletion; a list
    that changed shows the items that went out and came in.
    """
    before, after = _as_dict(entry.before), _as_dict(entry.after)
    changes = []
    for field in [*before, *(name for name in after if name not in before)]:
        old, new = before.get(field), after.get(field)
        if field in before and field in after:
            if old == new:
                continue
            if isinstance(old, list) and isinstance(new, list):
                removed = [item for item in old if item not in new]
                added = [item for item in new if item not in old]
                changes.append(
                    Change(field, _shown(removed) if removed else None, _shown(added) if added else None)
                )
            else:
                changes.append(Change(field, _shown(old), _shown(new)))
        elif field in before and not _empty(old):
            changes.append(Change(field, _shown(old), None))
        elif field in after and not _empty(new):
            changes.append(Change(field, None, _shown(new)))
    return changes


# --- View -----------------------------------------------------------------------------------


@require_GET
@staff_required
def audit_list(request: HtmxHttpRequest) -> HttpResponse:
    entries = AuditFilter(request.GET)
    page = rows = None
    # The order is not a filter: a value that makes no sense falls back quietly, as on the logs.
    oldest_first = request.GET.get("sort") == OLDEST_FIRST
    if entries.is_valid():
        ordered = entries.qs.order_by("at", "id") if oldest_first else entries.qs
        page = Paginator(ordered, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
        targets = audit_targets(page)
        rows = [AuditRow(entry, entry_changes(entry), targets[entry.pk]) for entry in page]
    # The filters stay on the page while the results swap: their errors travel out of band.
    context = {
        "form": entries.form,
        "page": page,
        "rows": rows,
        "oob_errors": wants_fragment(request),
        "oldest_first": oldest_first,
        "timezone": timezone.get_current_timezone_name(),
    }
    return render_page_or_fragment(request, "accounts/audit_list.html", "results", context)
