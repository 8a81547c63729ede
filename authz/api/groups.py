"""Groups and their members, through the same services as the dashboard's Groups section.

A group's roles and nested groups are in ``groups_links``. Taking someone out of a group,
or deleting a group, ends the earlier tokens of the people who lose a permission by it,
exactly as in the dashboard.
"""

from __future__ import annotations

from functools import partial
from uuid import UUID

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apis.rest.serializers import StrictSerializer
from authz import selectors, services
from authz.models import Group

from .base import CURSOR_PARAMETERS, IDEMPOTENCY_KEY, IF_MATCH, ManagementApi, page_of, responses
from .groups_links import urlpatterns as link_patterns
from .roles_selectors import group_member_chains, holders
from .roles_serializers import (
    GroupSerializer,
    MemberSerializer,
    PersonSerializer,
    UserIdsSerializer,
    description_field,
    name_field,
    people_named,
    query_text,
    text_query,
)


class GroupUpdateSerializer(StrictSerializer):
    name = name_field(required=False)
    description = description_field()


class GroupCreateSerializer(GroupUpdateSerializer):
    name = name_field()


def represent(group: Group) -> dict:
    return GroupSerializer(group).data


NAME_FILTER = text_query(
    "name_filter", max_length=100, description="Only groups whose name contains this (any case)."
)


class GroupListApi(ManagementApi):
    required_scopes = {"GET": "read:groups", "POST": "create:groups"}

    @extend_schema(
        operation_id="groups_list",
        parameters=[NAME_FILTER, *CURSOR_PARAMETERS],
        responses=responses({200: page_of(GroupSerializer)}),
    )
    def get(self, request: Request) -> Response:
        groups = selectors.group_list()
        if name := query_text(request.query_params, "name_filter", max_length=100):
            groups = groups.filter(name__icontains=name)
        return self.page(groups, GroupSerializer)

    @extend_schema(
        operation_id="groups_create",
        parameters=[IDEMPOTENCY_KEY],
        request=GroupCreateSerializer,
        responses=responses({201: GroupSerializer}, 409, 413, 415, 422),
    )
    def post(self, request: Request) -> Response:
        data = GroupCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def create() -> Response:
            group = services.group_create(**data.validated_data, actor=None)
            return self.with_etag(represent(group), status_code=status.HTTP_201_CREATED)

        return self.created(create)


class GroupDetailApi(ManagementApi):
    required_scopes = {"GET": "read:groups", "PATCH": "update:groups", "DELETE": "delete:groups"}

    @extend_schema(operation_id="groups_get", responses=responses({200: GroupSerializer}, 404))
    def get(self, request: Request, pk: int) -> Response:
        return self.with_etag(represent(get_object_or_404(selectors.group_list(), pk=pk)))

    @extend_schema(
        operation_id="groups_update",
        parameters=[IF_MATCH],
        request=GroupUpdateSerializer,
        responses=responses({200: GroupSerializer}, 404, 409, 412, 413, 415),
    )
    def patch(self, request: Request, pk: int) -> Response:
        data = GroupUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def write(group: Group) -> Group:
            fields = {"name": group.name, "description": group.description, **data.validated_data}
            return services.group_update(group=group, **fields, actor=None)

        return self.guarded_write(Group.objects.all(), represent, write, pk=pk)

    @extend_schema(
        operation_id="groups_delete",
        responses=responses({204: None}, 404),
        description="Its members (and those of groups nested in it) lose the roles it gave them: "
        "the earlier tokens of those who lose a permission end. Groups nested in it stay.",
    )
    def delete(self, request: Request, pk: int) -> Response:
        with transaction.atomic():
            group = get_object_or_404(Group.objects.select_for_update(), pk=pk)
            services.group_delete(group=group, actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupMembersApi(ManagementApi):
    required_scopes = {"GET": "read:groups", "POST": "update:groups"}

    @extend_schema(
        operation_id="groups_members_list",
        parameters=CURSOR_PARAMETERS,
        responses=responses({200: page_of(PersonSerializer)}, 404),
        description="The group's own members (members of groups nested in it are listed there).",
    )
    def get(self, request: Request, pk: int) -> Response:
        group = get_object_or_404(Group, pk=pk)
        return self.page(group.members.all(), PersonSerializer, ordering=("email",))

    @extend_schema(
        operation_id="groups_members_add",
        request=UserIdsSerializer,
        responses=responses({204: None}, 404, 413, 415),
        description="Add these people (those already in the group stay as they are).",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = UserIdsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            group = get_object_or_404(Group.objects.select_for_update(), pk=pk)
            for person in people_named(data.validated_data["user_ids"]):
                services.group_add_member(group=group, user=person, actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupAllMembersApi(ManagementApi):
    required_scopes = {"GET": "read:groups"}

    @extend_schema(
        operation_id="groups_members_all",
        parameters=CURSOR_PARAMETERS,
        responses=responses({200: page_of(MemberSerializer)}, 404),
        description="Everyone who counts as a member: the group's own members and those of every "
        "group nested in it, however deep; for each group they are in directly, the (shortest) chain "
        "of groups that leads here "
        '(`[["Managers"]]` for a direct member, `[["Team leads", "Managers"]]` through a nested group).',
    )
    def get(self, request: Request, pk: int) -> Response:
        paths = group_member_chains(get_object_or_404(Group, pk=pk))
        serializer = partial(MemberSerializer, context={"paths": paths})
        return self.page(holders(paths), serializer, ordering=("email",))


class GroupMemberApi(ManagementApi):
    required_scopes = {"DELETE": "update:groups"}

    @extend_schema(
        operation_id="groups_members_remove",
        responses=responses({204: None}, 404),
        description="Take this person out of the group (404 if they are not a member of it "
        "directly). If they lose a permission by it, their earlier tokens for that API end.",
    )
    def delete(self, request: Request, pk: int, user_id: UUID) -> Response:
        with transaction.atomic():
            group = get_object_or_404(Group.objects.select_for_update(), pk=pk)
            person = get_object_or_404(group.members.all(), sub=user_id)
            services.group_remove_member(group=group, user=person, actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns: list[URLPattern] = [
    path("groups", GroupListApi.as_view(), name="groups"),
    path("groups/<int:pk>", GroupDetailApi.as_view(), name="group"),
    path("groups/<int:pk>/members", GroupMembersApi.as_view(), name="group-members"),
    path("groups/<int:pk>/all-members", GroupAllMembersApi.as_view(), name="group-all-members"),
    path("groups/<int:pk>/members/<uuid:user_id>", GroupMemberApi.as_view(), name="group-member"),
    *link_patterns,
]
