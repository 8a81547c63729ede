"""Reads of the audit log for the Management API: the dashboard's filters (actor, action prefix,
target, time range), with an exact actor, a target id and instants instead of days."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict

from accounts.models import AuditEntry

from .clients_selectors import filtered


class _RangeForm(forms.Form):
    """``from`` and ``to`` as UTC instants. A range that runs backwards holds no entry (it is
    not refused: nothing in the schema could say so)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("from", "to"):
            value = cleaned.get(name)
            if value is not None:
                cleaned[name] = _utc(value)
        return cleaned


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # An offset at an end of the calendar puts the instant beyond it: every entry is
        # after the first day's, and before the last's.
        return datetime.min.replace(tzinfo=UTC) if value.year == 1 else datetime.max.replace(tzinfo=UTC)


class _LogFilterBase(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        field_name="actor_label",
        lookup_expr="iexact",
        max_length=254,
        help_text="The person's email then, client:<client id> for a Management API client, or system.",
    )
    action = django_filters.CharFilter(
        lookup_expr="startswith", max_length=60, help_text="A prefix: client. finds every application change."
    )
    target_type = django_filters.CharFilter(max_length=50, help_text="e.g. clients.client, accounts.user.")
    target_id = django_filters.CharFilter(max_length=64, help_text="The target's id within its type.")

    class Meta:
        model = AuditEntry
        fields = ["actor", "action", "target_type", "target_id"]
        form = _RangeForm


# "from" is a Python keyword: the two range filters are named in a mapping.
LogFilter = type(
    "LogFilter",
    (_LogFilterBase,),
    {
        "__module__": __name__,
        "__doc__": "The audit log's filters; ``from`` is inclusive, ``to`` exclusive.",
        "from": django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte"),
        "to": django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt"),
    },
)


def log_entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.order_by("-at", "-id")


def log_list(params: QueryDict) -> QuerySet[AuditEntry]:
    """The entries the query parameters pick (a 400 for a value they cannot take)."""
    return filtered(LogFilter, params, log_entries())
