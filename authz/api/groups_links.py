"""A group's roles and the groups nested in it ("children"), through the dashboard's services.

Nesting is refused with 409 when it would make a cycle (``group_nest`` says why); several
groups nested in one request go in together or not at all.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apis.rest.problems import ConflictError
from apis.rest.serializers import StrictSerializer
from authz import services
from authz.models import Group

from .base import CURSOR_PARAMETERS, ManagementApi, page_of, responses
from .roles_serializers import MAX_ITEMS, GroupSerializer, RoleSerializer, objects_named, roles_named


def _ids(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=MAX_ITEMS, help_text=help_text
    )


class RoleIdsSerializer(StrictSerializer):
    role_ids = _ids("The roles' ids.")


class GroupIdsSerializer(StrictSerializer):
    group_ids = _ids("The ids of the groups to nest inside this one.")


def _locked_group(pk: int) -> Group:
    return get_object_or_404(Group.objects.select_for_update(), pk=pk)


class GroupRolesApi(ManagementApi):
    required_scopes = {"GET": "read:groups", "POST": "update:groups"}

    @extend_schema(
        operation_id="groups_roles_list",
        parameters=CURSOR_PARAMETERS,
        responses=responses({200: page_of(RoleSerializer)}, 404),
        description="The roles given to the group: its members, and those of groups nested in it, hold them.",
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.page(get_object_or_404(Group, pk=pk).roles.all(), RoleSerializer)

    @extend_schema(
        operation_id="groups_roles_add",
        request=RoleIdsSerializer,
        responses=responses({204: None}, 404, 413, 415),
    )
    def post(self, request: Request, pk: int) -> Response:
        data = RoleIdsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            group = _locked_group(pk)
            for role in roles_named(data.validated_data["role_ids"]):
                services.group_add_role(group=group, role=role, actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupRoleApi(ManagementApi):
    required_scopes = {"DELETE": "update:groups"}

    @extend_schema(
        operation_id="groups_roles_remove",
        responses=responses({204: None}, 404),
        description="Take the role from the group (404 if the group does not have it). Members "
        "who lose a permission by it have their earlier tokens for that API refused.",
    )
    def delete(self, request: Request, pk: int, role_id: int) -> Response:
        with transaction.atomic():
            group = _locked_group(pk)
            role = get_object_or_404(group.roles.all(), pk=role_id)
            services.group_remove_role(group=group, role=role, actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupChildrenApi(ManagementApi):
    required_scopes = {"GET": "read:groups", "POST": "update:groups"}

    @extend_schema(
        operation_id="groups_children_list",
        parameters=CURSOR_PARAMETERS,
        responses=responses({200: page_of(GroupSerializer)}, 404),
        description="The groups nested directly inside this one: their members are members of this one too.",
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.page(get_object_or_404(Group, pk=pk).subgroups.all(), GroupSerializer)

    @extend_schema(
        operation_id="groups_children_add",
        request=GroupIdsSerializer,
        responses=responses({204: None}, 404, 409, 413, 415),
        description="Nest these groups inside this one. A group cannot contain itself, nor a group "
        "it is already inside (a cycle): 409, and none of the list is nested.",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = GroupIdsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = data.validated_data["group_ids"]
        with transaction.atomic():
            parent = _locked_group(pk)
            children = objects_named(Group.objects.all(), "pk", wanted, pointer="group_ids", what="group")
            for index, child in enumerate(children):
                try:
                    services.group_nest(parent=parent, child=child, actor=None)
                except ValidationError as refused:
                    raise _cycle(refused, index) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


def _cycle(refused: ValidationError, index: int) -> ConflictError:
    """``group_nest``'s refusal (a cycle: a conflict with what is stored), on the item it is about."""
    conflict = ConflictError(" ".join(refused.messages))
    conflict.field_errors = {"group_ids": {str(index): refused.messages}}  # type: ignore[attr-defined]
    return conflict


class GroupChildApi(ManagementApi):
    required_scopes = {"DELETE": "update:groups"}

    @extend_schema(
        operation_id="groups_children_remove",
        responses=responses({204: None}, 404),
        description="Take the nested group out of this one (404 if it is not directly inside). "
        "Its members who lose a permission by it have their earlier tokens for that API refused.",
    )
    def delete(self, request: Request, pk: int, child_id: int) -> Response:
        with transaction.atomic():
            parent = _locked_group(pk)
            child = get_object_or_404(parent.subgroups.all(), pk=child_id)
            services.group_unnest(parent=parent, child=child, actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns: list[URLPattern] = [
    path("groups/<int:pk>/roles", GroupRolesApi.as_view(), name="group-roles"),
    path("groups/<int:pk>/roles/<int:role_id>", GroupRoleApi.as_view(), name="group-role"),
    path("groups/<int:pk>/children", GroupChildrenApi.as_view(), name="group-children"),
    path("groups/<int:pk>/children/<int:child_id>", GroupChildApi.as_view(), name="group-child"),
]
