"""The timesheet pages for people signed in with a session (the API lives in ``urls.py``)."""

from __future__ import annotations

import datetime

from django.urls import path, register_converter

from . import views


class IsoDateConverter:
    """``2026-11-16`` as a date; an impossible date (``2026-02-30``) matches nothing: 404."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> datetime.date:
        return datetime.date.fromisoformat(value)

    def to_url(self, value: datetime.date | str) -> str:
        return value.isoformat() if isinstance(value, datetime.date) else value


register_converter(IsoDateConverter, "timesheet_date")

app_name = "timesheets"

urlpatterns = [
    path("", views.week, name="week"),
    path("week/<timesheet_date:monday>/", views.week, name="week"),
    path("week/<timesheet_date:monday>/add/", views.entry_create, name="entry_create"),
    path("week/<timesheet_date:monday>/submit/", views.week_submit, name="week_submit"),
    path("entries/<int:pk>/edit/", views.entry_update, name="entry_update"),
    path("entries/<int:pk>/delete/", views.entry_delete, name="entry_delete"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/entries/<int:pk>/approve/", views.entry_approve, name="entry_approve"),
    path("approvals/entries/<int:pk>/reject/", views.entry_reject, name="entry_reject"),
    path(
        "approvals/people/<int:worker_pk>/week/<timesheet_date:monday>/approve/",
        views.week_approve,
        name="week_approve",
    ),
    path("bulk/", views.bulk_list, name="bulk_list"),
    path("bulk/<int:pk>/", views.bulk_job, name="bulk_job"),
]
