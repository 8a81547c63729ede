"""Timesheet entries and bulk-upload jobs, with the rules the database itself enforces."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django.conf import settings
from django.db import models
from django.db.models.functions import Mod
from django.db.models.lookups import Exact

MINUTES_PER_DAY = 24 * 60
MAX_BULK_ROWS = 10_000


class Entry(models.Model):
    """Time one worker spent on one project on one day."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class Source(models.TextChoices):
        MOBILE = "mobile", "Mobile app"
        WEB = "web", "Web"
        BATCH = "batch", "Batch upload"

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="timesheet_entries"
    )
    date = models.DateField()
    project = models.CharField(max_length=100)
    minutes = models.PositiveSmallIntegerField(help_text="In quarter hours: 15, 30, … up to 1440.")
    notes = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    rejection_reason = models.TextField(blank=True, max_length=1000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    batch_client = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # NULL, not "": the per-client uniqueness applies only to entries that have one.
    external_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["worker", "-date", "-id"], name="timesheets_worker_date"),
            models.Index(fields=["status", "-date", "-id"], name="timesheets_status_date"),
        ]
        constraints = [
            models.CheckConstraint(
                # Q & a lookup is a Q (Django combines any conditional expression); django-stubs
                # types Q.__and__ for a Q only and falls back to the lookup's Combinable.
                condition=cast(
                    models.Q,
                    models.Q(minutes__gt=0, minutes__lte=MINUTES_PER_DAY) & Exact(Mod("minutes", 15), 0),
                ),
                name="timesheets_entry_quarter_hours",
            ),
            models.UniqueConstraint(
                fields=["batch_client", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="timesheets_entry_external_id_unique_per_client",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(rejection_reason=""),
                name="timesheets_entry_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker} {self.date} {self.project} {self.hours}h"

    @property
    def hours(self) -> Decimal:
        return Decimal(self.minutes) / 60


class BulkJob(models.Model):
    """One bulk upload by a batch client, processed by a Celery task."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    client = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rows = models.JSONField(help_text="The validated rows, processed by the task.")
    total = models.PositiveIntegerField()
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Rows whose external id was already imported.")
    errors = models.JSONField(default=list, help_text="[{row, errors}] found while processing.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"bulk job {self.pk} ({self.status})"

    @property
    def progress_percent(self) -> int:
        return 100 if not self.total else int(100 * self.processed / self.total)
