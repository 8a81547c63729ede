"""The timesheets app's configuration."""

from __future__ import annotations

from django.apps import AppConfig


class TimesheetsConfig(AppConfig):
    name = "timesheets"
    verbose_name = "Timesheets"
