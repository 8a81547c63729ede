"""Roles and their permissions, through the same services as the dashboard's Roles section.

A role's permissions are one document, read whole and replaced whole (``PUT``): that is
what the dashboard's permission form does (``role_set_permissions``, one audited change,
one check of who loses what), and with ``If-Match`` a client that read the list cannot
overwrite someone else's change made since. Taking a permission away ends the earlier
tokens of the people who lose it, exactly as in the dashboard.
"""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apis.models import Scope
from apis.rest.problems import UnknownReference
from apis.rest.serializers import StrictSerializer
from authz import selectors, services
from authz.models import Role

from .base import CURSOR_PARAMETERS, IDEMPOTENCY_KEY, IF_MATCH, ManagementApi, page_of, responses
from .roles_holders import urlpatterns as holder_patterns
from .roles_serializers import RoleSerializer, description_field, name_field, query_text, text_query

MAX_PERMISSIONS = 1000


class RoleUpdateSerializer(StrictSerializer):
    name = name_field(required=False)
    description = description_field()


class RoleCreateSerializer(RoleUpdateSerializer):
    name = name_field()


class PermissionSerializer(StrictSerializer):
    resource_server_identifier = serializers.CharField(max_length=255, help_text="The API's identifier.")
    permission_name = serializers.CharField(max_length=100, help_text="One of the API's scopes.")


class PermissionsSerializer(StrictSerializer):
    permissions = serializers.ListField(child=PermissionSerializer(), max_length=MAX_PERMISSIONS)


def represent(role: Role) -> dict:
    return RoleSerializer(role).data


def represent_permissions(role: Role) -> dict:
    scopes = role.permissions.select_related("api").order_by("api__identifier", "value")
    return {
        "permissions": [
            {"resource_server_identifier": scope.api.identifier, "permission_name": scope.value}
            for scope in scopes
        ]
    }


def scopes_named(permissions: list[dict[str, str]]) -> list[Scope]:
    """The scopes the request names, in one query; a 404 pointing at each unknown one."""
    identifiers = {item["resource_server_identifier"] for item in permissions}
    known = {
        (scope.api.identifier, scope.value): scope
        for scope in Scope.objects.filter(api__identifier__in=identifiers).select_related("api")
    }
    wanted = [(item["resource_server_identifier"], item["permission_name"]) for item in permissions]
    missing = {
        str(index): {"permission_name": ["The API has no such permission (or there is no such API)."]}
        for index, key in enumerate(wanted)
        if key not in known
    }
    if missing:
        raise UnknownReference({"permissions": missing})
    return list({known[key].pk: known[key] for key in wanted}.values())


NAME_FILTER = text_query(
    "name_filter", max_length=100, description="Only roles whose name contains this (any case)."
)


class RoleListApi(ManagementApi):
    required_scopes = {"GET": "read:roles", "POST": "create:roles"}

    @extend_schema(
        operation_id="roles_list",
        parameters=[NAME_FILTER, *CURSOR_PARAMETERS],
        responses=responses({200: page_of(RoleSerializer)}),
    )
    def get(self, request: Request) -> Response:
        roles = selectors.role_list()
        if name := query_text(request.query_params, "name_filter", max_length=100):
            roles = roles.filter(name__icontains=name)
        return self.page(roles, RoleSerializer)

    @extend_schema(
        operation_id="roles_create",
        parameters=[IDEMPOTENCY_KEY],
        request=RoleCreateSerializer,
        responses=responses({201: RoleSerializer}, 409, 413, 415, 422),
        description="A role without permissions: give it some with `PUT /roles/{id}/permissions`.",
    )
    def post(self, request: Request) -> Response:
        data = RoleCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def create() -> Response:
            role = services.role_create(**data.validated_data, actor=None)
            return self.with_etag(represent(role), status_code=status.HTTP_201_CREATED)

        return self.created(create)


class RoleDetailApi(ManagementApi):
    required_scopes = {"GET": "read:roles", "PATCH": "update:roles", "DELETE": "delete:roles"}

    @extend_schema(operation_id="roles_get", responses=responses({200: RoleSerializer}, 404))
    def get(self, request: Request, pk: int) -> Response:
        return self.with_etag(represent(get_object_or_404(selectors.role_list(), pk=pk)))

    @extend_schema(
        operation_id="roles_update",
        parameters=[IF_MATCH],
        request=RoleUpdateSerializer,
        responses=responses({200: RoleSerializer}, 404, 409, 412, 413, 415),
    )
    def patch(self, request: Request, pk: int) -> Response:
        data = RoleUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def write(role: Role) -> Role:
            fields = {"name": role.name, "description": role.description, **data.validated_data}
            return services.role_update(role=role, **fields, actor=None)

        return self.guarded_write(Role.objects.all(), represent, write, pk=pk)

    @extend_schema(
        operation_id="roles_delete",
        responses=responses({204: None}, 404),
        description="Its holders lose its permissions: their earlier tokens for those APIs end.",
    )
    def delete(self, request: Request, pk: int) -> Response:
        with transaction.atomic():
            services.role_delete(role=get_object_or_404(Role.objects.select_for_update(), pk=pk), actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RolePermissionsApi(ManagementApi):
    required_scopes = {"GET": "read:roles", "PUT": "update:roles"}

    @extend_schema(
        operation_id="roles_permissions_get", responses=responses({200: PermissionsSerializer}, 404)
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.with_etag(represent_permissions(get_object_or_404(Role, pk=pk)))

    @extend_schema(
        operation_id="roles_permissions_set",
        parameters=[IF_MATCH],
        request=PermissionsSerializer,
        responses=responses({200: PermissionsSerializer}, 404, 412, 413, 415),
        description="Replace the role's permissions with this list (duplicates count once). People "
        "who lose a permission by it have their earlier tokens for that API refused, as in the "
        "dashboard; the dashboard's preview of who loses what is not asked for.",
    )
    def put(self, request: Request, pk: int) -> Response:
        data = PermissionsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = data.validated_data["permissions"]
        # The role first (404), then what the list names (400 on its items).
        return self.guarded_write(
            Role.objects.all(),
            represent_permissions,
            lambda role: services.role_set_permissions(
                role=role, permissions=scopes_named(wanted), actor=None
            ),
            pk=pk,
        )


urlpatterns: list[URLPattern] = [
    path("roles", RoleListApi.as_view(), name="roles"),
    path("roles/<int:pk>", RoleDetailApi.as_view(), name="role"),
    path("roles/<int:pk>/permissions", RolePermissionsApi.as_view(), name="role-permissions"),
    *holder_patterns,
]
