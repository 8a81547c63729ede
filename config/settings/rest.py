"""Django REST framework and drf-spectacular, for the Timesheets API and the Management API."""

from __future__ import annotations

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON read under the size limit, never a 500 (apis.parsers); url-encoded forms as DRF
    # does. No multipart: the APIs take no files, and its file parts escape the limit.
    "DEFAULT_PARSER_CLASSES": ["apis.parsers.JSONParser", "rest_framework.parsers.FormParser"],
    "EXCEPTION_HANDLER": "apis.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ABC Inc. Timesheets API",
    "DESCRIPTION": "Log and approve time. Every operation needs a bearer access token for the "
    "audience https://timesheets.abcinc.example/api with the scope it names.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema reads the API's scopes from the registry, which `check --deploy` may run
    # without a database; the test suite validates the schema instead.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    # Each API's schema describes that API only; the Management API serves its own.
    "PREPROCESSING_HOOKS": ["apis.schema.without_management_api"],
}
