"""The Timesheets API's request and response shapes (DRF serializers)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from .models import MAX_BULK_ROWS, BulkJob, Entry


def _hours_field(**kwargs: Any) -> serializers.DecimalField:
    """Hours as the API reads and writes them: 0.25 to 24, two decimals."""
    return serializers.DecimalField(
        max_digits=4, decimal_places=2, min_value=Decimal("0.25"), max_value=Decimal("24"), **kwargs
    )


class EntrySerializer(serializers.ModelSerializer):
    worker = serializers.EmailField(source="worker.email", read_only=True)
    hours = _hours_field(read_only=True)
    decided_by = serializers.EmailField(source="decided_by.email", read_only=True, default=None)

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


class EntryWriteSerializer(serializers.Serializer):
    """What a person may write: never the worker, the status or the decision."""

    date = serializers.DateField()
    project = serializers.CharField(max_length=100, trim_whitespace=True)
    hours = _hours_field()
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, trim_whitespace=True)


class EntryFilterSerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    status = serializers.ChoiceField(choices=Entry.Status.choices, required=False)
    project = serializers.CharField(required=False, max_length=100)
    worker = serializers.EmailField(required=False, help_text="Approvers only: one worker's entries.")
    team = serializers.BooleanField(
        required=False, default=False, help_text="Approvers only: your reports' entries."
    )

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": "date_to is before date_from."})
        return attrs


class BulkRowSerializer(serializers.Serializer):
    worker = serializers.EmailField(help_text="The worker's email address.")
    date = serializers.DateField()
    project = serializers.CharField(max_length=100)
    hours = _hours_field()
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


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
    # What many=True builds, spelled out: the stub's Serializer takes no list arguments.
    rows: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=BulkRowSerializer(), allow_empty=False, max_length=MAX_BULK_ROWS
    )


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
