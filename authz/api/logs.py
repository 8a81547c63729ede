"""The audit log, for a SIEM or an auditor's script: every administrative change and security
event (sign-ins, failures, lockouts), newest first, filtered and paged by cursor."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import AuditEntry

from .base import CURSOR_PARAMETERS, ManagementApi, page_of, responses
from .clients_selectors import NO_NUL
from .logs_selectors import log_entries, log_list


class LogEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(
        source="actor_label",
        help_text="The person's email then, client:<client id> for a Management API client, or system.",
    )
    action = serializers.CharField(help_text="e.g. client.create, security.login, security.login_failure.")
    target_type = serializers.CharField(help_text="The changed object's model (empty when none).")
    target_id = serializers.CharField()
    target_label = serializers.CharField(help_text="The target's name then.")
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    ip = serializers.CharField(allow_null=True, help_text="The address the change came from, when known.")


def _text(max_length: int) -> dict:
    return {"type": "string", "maxLength": max_length, "pattern": NO_NUL}


FILTERS = [
    OpenApiParameter(
        "actor",
        _text(254),
        description="Exactly this actor: an email, client:<client id>, or system (any case).",
    ),
    OpenApiParameter(
        "action", _text(60), description="Actions starting with this, e.g. client. or security.login"
    ),
    OpenApiParameter(
        "target_type", _text(50), description="The target's model, e.g. clients.client or accounts.user."
    ),
    OpenApiParameter("target_id", _text(64), description="The target's id (with target_type)."),
    OpenApiParameter(
        "from", OpenApiTypes.DATETIME, description="Entries at or after this instant (ISO 8601)."
    ),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="Entries before this instant (ISO 8601)."),
]


class LogListApi(ManagementApi):
    required_scopes = {"GET": "read:logs"}

    @extend_schema(
        operation_id="logs_list",
        parameters=[*FILTERS, *CURSOR_PARAMETERS],
        responses=responses({200: page_of(LogEntrySerializer)}),
        description="The audit log, newest first.",
    )
    def get(self, request: Request) -> Response:
        return self.page(log_list(request.query_params), LogEntrySerializer, ordering=("-at", "-id"))


class LogDetailApi(ManagementApi):
    required_scopes = {"GET": "read:logs"}

    @extend_schema(operation_id="logs_get", responses=responses({200: LogEntrySerializer}, 404))
    def get(self, request: Request, pk: int) -> Response:
        entry: AuditEntry = get_object_or_404(log_entries(), pk=pk)
        return self.with_etag(LogEntrySerializer(entry).data)


urlpatterns = [
    path("logs", LogListApi.as_view(), name="logs"),
    path("logs/<int:pk>", LogDetailApi.as_view(), name="log"),
]
