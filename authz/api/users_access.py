"""A person's access through the Management API: their roles and groups (each with how it is
held), adding and removing direct assignments, and their effective permissions with reasons.

Reading needs ``read:users``; changing a person's roles or groups is a change to the person
(``update:users``), as on the dashboard's person page. A person's roles, groups and
permissions are few, so they are answered whole, not in pages.
"""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apis.rest.serializers import StrictSerializer

from .. import services
from ..selectors import user_groups, user_permissions, user_roles
from .base import ManagementApi, responses
from .roles_serializers import roles_named
from .users_guards import person_for_write
from .users_selectors import user_by_id
from .users_serializers import groups_named, ids_field, path_id


class UserHeldRoleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    direct = serializers.BooleanField(
        help_text="Assigned to the person (DELETE removes it); false when held only through groups."
    )
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text='How it is held: "assigned directly", "via group …".'
    )


class UserGroupMembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="group.id")
    name = serializers.CharField(source="group.name")
    description = serializers.CharField(source="group.description")
    direct = serializers.BooleanField(help_text="A member of this group itself (DELETE removes it).")
    path = serializers.ListField(
        source="chain",
        child=serializers.CharField(),
        help_text="Group names from the one the person is in directly out to this one.",
    )


class UserPermissionSerializer(serializers.Serializer):
    resource_server_identifier = serializers.CharField(source="api")
    permission_name = serializers.CharField(source="scope")
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text='e.g. "role Approver via group Managers (through Leads)".'
    )


class UserRoleIdsSerializer(StrictSerializer):
    role_ids = ids_field("The ids of the roles to assign.")

    def validate(self, attrs: dict) -> dict:
        return {"roles": roles_named(attrs["role_ids"])}


class UserGroupIdsSerializer(StrictSerializer):
    group_ids = ids_field("The ids of the groups to join.")

    def validate(self, attrs: dict) -> dict:
        return {"groups": groups_named(attrs["group_ids"])}


class UserRolesApi(ManagementApi):
    required_scopes = {"GET": "read:users", "POST": "update:users"}

    @extend_schema(
        operation_id="users_roles_list",
        responses=responses({200: UserHeldRoleSerializer(many=True)}, 404),
        description="Every role the person holds, directly or through groups, by name.",
    )
    def get(self, request: Request, user_id: UUID) -> Response:
        person = user_by_id(user_id)
        direct = set(person.roles.values_list("pk", flat=True))
        rows = [
            {
                "id": role.pk,
                "name": role.name,
                "description": role.description,
                "direct": role.pk in direct,
                "reasons": list(how),
            }
            for role, how in user_roles(person)
        ]
        return Response(UserHeldRoleSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="users_roles_assign",
        request=UserRoleIdsSerializer,
        responses=responses({204: None}, 404, 409, 413, 415),
        description="Assign roles to the person directly (those they have already stay). All or "
        "none: an unknown id is 400 and nothing is assigned.",
    )
    def post(self, request: Request, user_id: UUID) -> Response:
        data = UserRoleIdsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            person = person_for_write(user_id)
            for role in data.validated_data["roles"]:
                services.role_assign(actor=None, role=role, user=person)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserRoleApi(ManagementApi):
    required_scopes = {"DELETE": "update:users"}

    @extend_schema(
        operation_id="users_roles_remove",
        parameters=[path_id("role_id", "role")],
        responses=responses({204: None}, 404, 409),
        description="Take a directly assigned role away. A role held only through a group is 404 "
        "here: remove it from the group, or the person from the group.",
    )
    def delete(self, request: Request, user_id: UUID, role_id: int) -> Response:
        with transaction.atomic():
            person = person_for_write(user_id)
            role = get_object_or_404(person.roles.all(), pk=role_id)
            services.role_unassign(actor=None, role=role, user=person)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserGroupsApi(ManagementApi):
    required_scopes = {"GET": "read:users", "POST": "update:users"}

    @extend_schema(
        operation_id="users_groups_list",
        responses=responses({200: UserGroupMembershipSerializer(many=True)}, 404),
        description="The groups the person is in directly, then those these are nested in.",
    )
    def get(self, request: Request, user_id: UUID) -> Response:
        return Response(UserGroupMembershipSerializer(user_groups(user_by_id(user_id)), many=True).data)

    @extend_schema(
        operation_id="users_groups_add",
        request=UserGroupIdsSerializer,
        responses=responses({204: None}, 404, 409, 413, 415),
        description="Add the person to groups (those they are in already stay). All or none: an "
        "unknown id is 400 and nothing changes.",
    )
    def post(self, request: Request, user_id: UUID) -> Response:
        data = UserGroupIdsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            person = person_for_write(user_id)
            for group in data.validated_data["groups"]:
                services.group_add_member(actor=None, group=group, user=person)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserGroupApi(ManagementApi):
    required_scopes = {"DELETE": "update:users"}

    @extend_schema(
        operation_id="users_groups_remove",
        parameters=[path_id("group_id", "group")],
        responses=responses({204: None}, 404, 409),
        description="Take the person out of a group they are in directly. A group they are in only "
        "through nesting is 404 here.",
    )
    def delete(self, request: Request, user_id: UUID, group_id: int) -> Response:
        with transaction.atomic():
            person = person_for_write(user_id)
            group = get_object_or_404(person.authz_groups.all(), pk=group_id)
            services.group_remove_member(actor=None, group=group, user=person)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserPermissionsApi(ManagementApi):
    required_scopes = {"GET": "read:users"}

    @extend_schema(
        operation_id="users_permissions_list",
        responses=responses({200: UserPermissionSerializer(many=True)}, 404),
        description="The person's effective permissions on every API, each with every reason it "
        "is held (a role assigned directly, or through a chain of groups).",
    )
    def get(self, request: Request, user_id: UUID) -> Response:
        return Response(UserPermissionSerializer(user_permissions(user_by_id(user_id)), many=True).data)


urlpatterns: list[URLPattern] = [
    path("users/<uuid:user_id>/roles", UserRolesApi.as_view(), name="user-roles"),
    path("users/<uuid:user_id>/roles/<int:role_id>", UserRoleApi.as_view(), name="user-role"),
    path("users/<uuid:user_id>/groups", UserGroupsApi.as_view(), name="user-groups"),
    path("users/<uuid:user_id>/groups/<int:group_id>", UserGroupApi.as_view(), name="user-group"),
    path("users/<uuid:user_id>/permissions", UserPermissionsApi.as_view(), name="user-permissions"),
]
