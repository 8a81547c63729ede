"""Configuration as code through the Management API: the export, a preview, the import.

The same functions as ``manage.py config_export`` / ``config_import`` and the dashboard's
import page (authz.transfer): validate all, show the changes, apply all or nothing.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import Conflict
from apis.models import Api
from apis.rest.concurrency import check_if_match, etag_of
from apis.system import management_audience
from clients.models import Client
from clients.selectors import client_grant_scopes

from ..transfer import ConfigInvalid, ImportPlan, apply_import, export_config, plan_import
from .base import IF_MATCH, ManagementApi, responses

NOUNS = ("resource_servers", "clients", "client_grants", "roles", "groups")
READ = (*(f"read:{noun}" for noun in NOUNS), "read:rules")
WRITE = (*(f"{verb}:{noun}" for noun in NOUNS for verb in ("create", "update", "delete")), "update:rules")


class ChangeSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["create", "change", "remove"])
    kind = serializers.CharField(help_text="api, application, client grant, role, group or rule.")
    name = serializers.CharField()
    details = serializers.ListField(child=serializers.CharField())


class PlanSerializer(serializers.Serializer):
    # A dict, not a serializer with a field named "create" (which would hide Serializer.create).
    summary = serializers.DictField(
        child=serializers.IntegerField(), help_text="How many to create, change and remove."
    )
    changes = ChangeSerializer(many=True)


class AppliedSerializer(PlanSerializer):
    client_secrets = serializers.DictField(
        child=serializers.CharField(),
        help_text="Secrets of the confidential applications the import created, by client id: shown once.",
    )


def _pointer(path: str) -> str:
    """``applications[2].callbacks[0]`` -> ``applications/2/callbacks/0`` (a JSON Pointer's body).

    ``role_assignments.<role name>`` names a key that may hold any character: escaped as
    RFC 6901 says (``~`` as ``~0``, ``/`` as ``~1``).
    """
    section, dot, name = path.partition(".")
    if section == "role_assignments" and dot:
        return f"{section}/" + name.replace("~", "~0").replace("/", "~1")
    return re.sub(r"\[(\d+)\]", r"/\1", path).replace(".", "/")


def _plan(data: Any) -> ImportPlan:
    if not isinstance(data, dict):
        raise exceptions.ValidationError({"non_field_errors": ["The body must be a configuration object."]})
    try:
        return plan_import(data)
    except ConfigInvalid as invalid:
        errors: dict[str, list[str]] = {}
        for problem in invalid.problems:
            errors.setdefault(_pointer(problem.path) or "non_field_errors", []).append(problem.message)
        raise exceptions.ValidationError(errors) from invalid


def _plan_data(plan: ImportPlan) -> dict[str, Any]:
    return {
        "summary": plan.summary,
        "changes": [
            {"action": c.action, "kind": c.kind, "name": c.name, "details": list(c.details)}
            for c in plan.changes
        ],
    }


def _check_keeps_own_access(plan: ImportPlan, client_id: str) -> None:
    """An import may not take the calling application's Management API access away: it would
    lock out the very job that applies the configuration."""
    if plan.state.partial:  # a version 1 file leaves applications and grants as they are
        return
    client = Client.objects.filter(client_id=client_id).first()
    held = client_grant_scopes(client=client, api=Api.objects.get(system=True)) if client else None
    kept = plan.state.grants.get((client_id, management_audience()), frozenset())
    if client_id not in plan.state.applications or (held and not held <= kept):
        raise Conflict(
            f"This import would take away the Management API access of the application calling it "
            f"({client_id}): keep the application and its grant in the file.",
            code="own_access",
        )


BODY_DESCRIPTION = (
    "A configuration as GET /api/v2/config exports it (format version 2): APIs, applications, "
    "client grants, roles, groups and rules, named by identifiers, client ids, emails and names."
)


class ConfigApi(ManagementApi):
    required_scopes = {"GET": READ, "PUT": WRITE}

    @extend_schema(
        operation_id="config_export",
        responses=responses({200: OpenApiTypes.OBJECT}),
        description="The whole configuration, never a secret. Its ETag guards a later PUT.",
    )
    def get(self, request: Request) -> Response:
        return self.with_etag(export_config())

    @extend_schema(
        operation_id="config_import",
        parameters=[IF_MATCH],
        request={"application/json": {"type": "object", "description": BODY_DESCRIPTION}},
        responses=responses({200: AppliedSerializer}, 409, 412, 413, 415),
        description="Make the configuration match the body, all or nothing: what the body does not "
        "name is removed. Every problem is listed, with its place in the body.",
    )
    def put(self, request: Request) -> Response:
        with transaction.atomic():
            # One import at a time, across every worker: each sees the last one's result.
            Api.objects.select_for_update().filter(system=True).exists()
            check_if_match(request, etag_of(export_config()))
            plan = _plan(request.data)
            _check_keeps_own_access(plan, self.principal.client_id)
            result = apply_import(actor=None, plan=plan)
        return Response({**_plan_data(plan), "client_secrets": result.secrets})


class ConfigPreviewApi(ManagementApi):
    required_scopes = {"POST": READ}

    @extend_schema(
        operation_id="config_preview",
        request={"application/json": {"type": "object", "description": BODY_DESCRIPTION}},
        responses=responses({200: PlanSerializer}, 413, 415),
        description="What PUT /api/v2/config would change, or every problem of the body. Changes nothing.",
    )
    def post(self, request: Request) -> Response:
        return Response(_plan_data(_plan(request.data)))


urlpatterns = [
    path("config", ConfigApi.as_view(), name="config"),
    path("config/preview", ConfigPreviewApi.as_view(), name="config-preview"),
]
