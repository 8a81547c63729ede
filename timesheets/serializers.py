"""The Timesheets API's request and response shapes (DRF serializers)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import empty

from .models import MAX_BULK_ROWS, BulkJob, Entry


class HoursField(serializers.DecimalField):
    """Hours as a request gives them: 0.25 to 24, two decimals; the schema says quarter hours
    (``timesheets.schema``), which the services enforce."""


class TextField(serializers.CharField):
    """A CharField whose schema also says what DRF refuses in text: NUL characters, lone
    surrogates and, unless blank is allowed, only whitespace (``timesheets.schema``)."""


def _hours_field(field_class: type[serializers.DecimalField] = HoursField, **kwargs: Any) -> Any:
    """Hours as the API reads and writes them: 0.25 to 24, two decimals."""
    return field_class(
        max_digits=4, decimal_places=2, min_value=Decimal("0.25"), max_value=Decimal("24"), **kwargs
    )


class EntrySerializer(serializers.ModelSerializer):
    worker = serializers.EmailField(source="worker.email", read_only=True)
    # As the API writes them: a decimal string, "7.50".
    hours = _hours_field(serializers.DecimalField, read_only=True)
    decided_by = serializers.EmailField(
        source="decided_by.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Entry
        fields = [
            "id",
            "worker",
            "date",
            "project",
            "hours",
            "notes",
            "status",
            "rejection_reason",
            "decided_by",
            "decided_at",
            "source",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# EntrySerializer's output built from plain rows (``QuerySet.values``) instead of model
# instances: the list reads 50 rows a page, and instantiating them and running the serializer
# machinery cost three times what the rows do. The fields, their order and their formatting
# are EntrySerializer's own (its field objects format dates, datetimes and decimals), so the
# two cannot drift apart; a test compares their bytes.
# Strings, integers and choices come out of the database as the serializer writes them.
_AS_STORED = (serializers.CharField, serializers.IntegerField, serializers.ChoiceField)


@functools.cache
def _row_plan() -> tuple[tuple[str, str, serializers.Field | None], ...]:
    """Each field of EntrySerializer: its name, the ``values()`` column it reads, and the field
    that formats it (None: as stored). Built on first use, when the models are ready."""
    return tuple(
        (
            name,
            "minutes" if name == "hours" else str(field.source).replace(".", "__"),
            None if isinstance(field, _AS_STORED) else field,
        )
        for name, field in EntrySerializer().fields.items()
    )


@functools.lru_cache(maxsize=2048)
def _hours(minutes: int) -> Any:
    """Hours are stored as minutes, and served as the serializer's field formats them."""
    return EntrySerializer().fields["hours"].to_representation(Decimal(minutes) / 60)


def _formatter(field: serializers.Field | None, zone: tzinfo | None) -> Callable[[Any], Any] | None:
    if field is None:
        return None
    if field.field_name == "hours":
        return _hours
    if isinstance(field, serializers.DateTimeField) and zone is not None and not hasattr(field, "timezone"):
        # The field itself asks for the current time zone per value; this copy of it is told
        # the request's once (DRF's own code, and its output, otherwise).
        copy = serializers.DateTimeField(format=getattr(field, "format", empty), default_timezone=zone)
        return copy.to_representation
    return field.to_representation


def entry_row_columns() -> tuple[str, ...]:
    """The columns ``entry_rows_data`` reads: ``entries.values(*entry_row_columns())``."""
    return tuple(column for _name, column, _field in _row_plan())


def entry_rows_data(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """What ``EntrySerializer(entries, many=True).data`` holds, from ``values()`` rows of them.

    As DRF does, a missing value (NULL) is None whatever the field.
    """
    zone = timezone.get_current_timezone() if settings.USE_TZ else None
    plan = [(name, column, _formatter(field, zone)) for name, column, field in _row_plan()]
    return [
        {
            name: value if (value := row[column]) is None or format_ is None else format_(value)
            for name, column, format_ in plan
        }
        for row in rows
    ]


class EntryWriteSerializer(serializers.Serializer):
    """What a person may write: never the worker, the status or the decision."""

    date = serializers.DateField()
    project = TextField(max_length=100)
    hours = _hours_field()
    notes = TextField(max_length=2000, required=False, allow_blank=True, default="")


class EntryPageSerializer(serializers.Serializer):
    """One page of the list (cursor pagination): follow ``next`` until it is null."""

    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, or null on the first.")
    results = EntrySerializer(many=True)


class RejectSerializer(serializers.Serializer):
    reason = TextField(max_length=1000)


class EntryFilterSerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text="Entries on or after this day.")
    # A range that ends before it starts is empty, like any other range with nothing in it.
    date_to = serializers.DateField(
        required=False, help_text="Entries on or before this day (before date_from: none)."
    )
    status = serializers.ChoiceField(choices=Entry.Status.choices, required=False)
    project = TextField(required=False, max_length=100)
    worker = serializers.EmailField(required=False, help_text="Approvers only: one worker's entries.")
    team = serializers.BooleanField(
        required=False, default=False, help_text="Approvers only: your reports' entries."
    )


class BulkRowSerializer(serializers.Serializer):
    worker = serializers.EmailField(help_text="The worker's email address.")
    date = serializers.DateField()
    project = TextField(max_length=100)
    hours = _hours_field()
    notes = TextField(max_length=2000, required=False, allow_blank=True, default="")
    external_id = TextField(max_length=100, required=False, allow_blank=True, default="")


def bulk_rows_parse(rows: list[Any]) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, list[str]]]]:
    """Each row's fields, by row number (from 1): the parsed rows, and the rows that did not parse."""
    parsed: dict[int, dict[str, Any]] = {}
    problems: dict[int, dict[str, list[str]]] = {}
    for index, row in enumerate(rows, start=1):
        serializer = BulkRowSerializer(data=row if isinstance(row, dict) else {})
        if serializer.is_valid():
            parsed[index] = serializer.validated_data
        else:
            problems[index] = {field: [str(e) for e in errs] for field, errs in serializer.errors.items()}
    return parsed, problems


class BulkUploadSerializer(serializers.Serializer):
    """A bulk upload as JSON (the API also reads the bare array of rows)."""

    rows = serializers.ListField(child=BulkRowSerializer(), min_length=1, max_length=MAX_BULK_ROWS)


class BulkJobSerializer(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = BulkJob
        fields = [
            "id",
            "status",
            "total",
            "processed",
            "created",
            "skipped",
            "progress_percent",
            "errors",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields
