"""The Management API's URLs (mounted at /api/v2/), its OpenAPI schema and Swagger UI."""

from __future__ import annotations

from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apis.system import MANAGEMENT_API_NAME

from . import client_grants, clients, config, groups, logs, resource_servers, roles, rules, stats, users
from .base import NotFoundApi

app_name = "management-api"

resource_patterns = [
    *users.urlpatterns,
    *roles.urlpatterns,
    *groups.urlpatterns,
    *clients.urlpatterns,
    *client_grants.urlpatterns,
    *rules.urlpatterns,
    *logs.urlpatterns,
    *stats.urlpatterns,
    *config.urlpatterns,
    *resource_servers.urlpatterns,
]

SCHEMA_SETTINGS = {
    "TITLE": MANAGEMENT_API_NAME,
    "DESCRIPTION": "Manage people, roles, groups, APIs, applications, client grants and rules from code. "
    "Call it with a client-credentials access token for this API's identifier, from a "
    "machine-to-machine application granted the scopes each operation names. Errors are RFC 9457 "
    "problem details.",
    "VERSION": "2.0.0",
    "PREPROCESSING_HOOKS": ["apis.schema.only_management_api"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apis.schema.strings_without_nul",
    ],
    # A PATCH body is described as the view validates it, required fields included.
    "COMPONENT_SPLIT_PATCH": False,
    # What the routes' converters match: no negative ids, no "/" inside a path segment.
    "PATH_CONVERTER_OVERRIDES": {
        "int": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
        "str": {"type": "string", "pattern": "^[^/]+$"},
    },
}

urlpatterns = [
    *resource_patterns,
    path(
        "schema",
        SpectacularAPIView.as_view(
            permission_classes=[],
            authentication_classes=[],
            custom_settings=SCHEMA_SETTINGS,
            patterns=[path("api/v2/", include((resource_patterns, app_name)))],
        ),
        name="schema",
    ),
    path(
        "docs",
        # Swagger UI sets inline styles (never inline scripts): allowed on this page only.
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(
                url_name="management-api:schema", permission_classes=[], authentication_classes=[]
            )
        ),
        name="docs",
    ),
    # Anything else under /api/v2/ is a problem+json 404, as an API client expects.
    re_path(r"^.*$", NotFoundApi.as_view(), name="not-found"),
]
