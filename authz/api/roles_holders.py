"""Who holds a role (directly or through groups) and who holds a permission ("who can"),
with each route; direct assignment of a role to people and its removal."""

from __future__ import annotations

from functools import partial
from uuid import UUID

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apis.models import Scope
from authz import services
from authz.models import Role

from .base import CURSOR_PARAMETERS, ManagementApi, page_of, responses
from .roles_selectors import holders, permission_find, permission_holder_routes, role_holder_routes
from .roles_serializers import HolderSerializer, UserIdsSerializer, people_named, query_text, text_query

# Holders are listed by email, as on the dashboard (email is unique).
BY_EMAIL = ("email",)


class RoleUsersApi(ManagementApi):
    required_scopes = {"GET": "read:roles", "POST": "update:roles"}

    @extend_schema(
        operation_id="roles_users_list",
        parameters=CURSOR_PARAMETERS,
        responses=responses({200: page_of(HolderSerializer)}, 404),
        description="Everyone holding the role: assigned directly, or a member of a group that has "
        "it (or of a group nested in one), with every route.",
    )
    def get(self, request: Request, pk: int) -> Response:
        routes = role_holder_routes(get_object_or_404(Role, pk=pk))
        return self.page(
            holders(routes), partial(HolderSerializer, context={"routes": routes}), ordering=BY_EMAIL
        )

    @extend_schema(
        operation_id="roles_users_assign",
        request=UserIdsSerializer,
        responses=responses({204: None}, 404, 413, 415),
        description="Assign the role to these people directly (those who have it already keep it).",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = UserIdsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            role = get_object_or_404(Role.objects.select_for_update(), pk=pk)
            for person in people_named(data.validated_data["user_ids"]):
                services.role_assign(role=role, user=person, actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleUserApi(ManagementApi):
    required_scopes = {"DELETE": "update:roles"}

    @extend_schema(
        operation_id="roles_users_unassign",
        responses=responses({204: None}, 404),
        description="Take back the role assigned to this person directly (404 if it is not: a role "
        "held through a group goes with the group membership). If they lose a permission by it, "
        "their earlier tokens for that API end.",
    )
    def delete(self, request: Request, pk: int, user_id: UUID) -> Response:
        with transaction.atomic():
            role = get_object_or_404(Role.objects.select_for_update(), pk=pk)
            person = get_object_or_404(role.users.all(), sub=user_id)
            services.role_unassign(role=role, user=person, actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


WHO_CAN_PARAMETERS = [
    text_query(
        "resource_server_identifier", max_length=255, required=True, description="The API's identifier."
    ),
    text_query("permission_name", max_length=100, required=True, description="One of its scopes."),
]


class WhoCanApi(ManagementApi):
    required_scopes = {"GET": "read:roles"}

    @extend_schema(
        operation_id="who_can",
        parameters=[*WHO_CAN_PARAMETERS, *CURSOR_PARAMETERS],
        responses=responses({200: page_of(HolderSerializer)}, 404),
        description="Everyone holding the permission, with each route: which role, and through "
        "which groups. 404 when the API has no such permission.",
    )
    def get(self, request: Request) -> Response:
        scope = _permission(request)
        routes = permission_holder_routes(scope)
        return self.page(
            holders(routes), partial(HolderSerializer, context={"routes": routes}), ordering=BY_EMAIL
        )


def _permission(request: Request) -> Scope:
    """The permission the query names (404 if none); 400 if a parameter is missing."""
    missing = [
        name for name in ("resource_server_identifier", "permission_name") if name not in request.query_params
    ]
    if missing:
        raise serializers.ValidationError({name: ["This parameter is required."] for name in missing})
    return permission_find(
        resource_server_identifier=query_text(
            request.query_params, "resource_server_identifier", max_length=255
        ),
        permission_name=query_text(request.query_params, "permission_name", max_length=100),
    )


urlpatterns: list[URLPattern] = [
    path("roles/<int:pk>/users", RoleUsersApi.as_view(), name="role-users"),
    path("roles/<int:pk>/users/<uuid:user_id>", RoleUserApi.as_view(), name="role-user"),
    path("who-can", WhoCanApi.as_view(), name="who-can"),
]
