"""The dashboard's overview (mounted at ``/dashboard/overview/`` by ``config.urls``)."""

from __future__ import annotations

from django.urls import path

from . import overview_views

app_name = "overview"

urlpatterns = [
    path("", overview_views.overview, name="index"),
]
