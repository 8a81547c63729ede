"""The Timesheets API's URLs, its OpenAPI schema and its docs page (the pages are in ``web_urls``)."""

from __future__ import annotations

from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import api

app_name = "timesheets-api"

urlpatterns = [
    path("timesheets", api.TimesheetListApi.as_view(), name="list"),
    path("timesheets/bulk", api.BulkUploadApi.as_view(), name="bulk"),
    path("timesheets/bulk/<int:pk>", api.BulkJobApi.as_view(), name="bulk-job"),
    path("timesheets/<int:pk>", api.TimesheetDetailApi.as_view(), name="detail"),
    path("timesheets/<int:pk>/submit", api.TimesheetSubmitApi.as_view(), name="submit"),
    path("timesheets/<int:pk>/approve", api.TimesheetApproveApi.as_view(), name="approve"),
    path("timesheets/<int:pk>/reject", api.TimesheetRejectApi.as_view(), name="reject"),
    re_path(r"^timesheets/", api.TimesheetsNotFoundApi.as_view(), name="not-found"),
    path(
        "schema", SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]), name="schema"
    ),
    path(
        "docs",
        # Swagger UI sets inline styles (never inline scripts): allowed on this page only.
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(
                url_name="timesheets-api:schema", permission_classes=[], authentication_classes=[]
            )
        ),
        name="docs",
    ),
]
