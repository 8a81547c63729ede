"""The Management API's users: list, read, invite, update the profile, block and unblock,
delete (a tombstone); their roles, groups, permissions, sessions and refresh tokens are
``users_access``' and ``users_sign_in``'.

Each operation calls the services the dashboard's people pages call, in the same order,
with the calling client as the audit actor.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import URLPattern, path, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services as account_services
from accounts.errors import Conflict
from accounts.identifiers import login_identifier
from accounts.models import User

from .. import services
from ..oauth.backchannel import with_backchannel_logout
from . import users_access, users_sign_in
from .base import CURSOR_PARAMETERS, IDEMPOTENCY_KEY, IF_MATCH, ManagementApi, page_of, responses
from .users_guards import keep_an_administrator, person_for_write, refuse_tombstone
from .users_selectors import user_by_id, user_search
from .users_serializers import (
    UserCreateSerializer,
    UserFilterSerializer,
    UserSerializer,
    UserUpdateSerializer,
    represent,
)


def _invite(data: dict) -> User:
    """``user_invite`` with the initial groups joined in its transaction, as the dashboard's
    invitation form does; an address already in use is a conflict (409)."""
    groups = data["groups"]

    def join_groups(person: User) -> None:
        for group in groups:
            services.group_add_member(actor=None, group=group, user=person)

    try:
        return account_services.user_invite(
            actor=None,
            email=data["email"],
            name=data["name"],
            worker_type=data["worker_type"],
            manager=data["manager"],
            setup=join_groups,
        )
    except ValidationError as error:
        taken = User.objects.filter(email__iexact=login_identifier(data["email"])).exists()
        if taken and "email" in getattr(error, "error_dict", {}):
            raise Conflict({"email": error.message_dict["email"]}) from None
        raise


class UserListApi(ManagementApi):
    required_scopes = {"GET": "read:users", "POST": "create:users"}

    @extend_schema(
        operation_id="users_list",
        parameters=[UserFilterSerializer, *CURSOR_PARAMETERS],
        responses=responses({200: page_of(UserSerializer)}),
        description="People by email address, a page at a time; tombstones only with status=deleted.",
    )
    def get(self, request: Request) -> Response:
        filters = UserFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return self.page(user_search(**filters.validated_data), UserSerializer, ordering=("email",))

    @extend_schema(
        operation_id="users_create",
        parameters=[IDEMPOTENCY_KEY],
        request=UserCreateSerializer,
        responses=responses({201: UserSerializer}, 404, 409, 413, 415, 422),
        description="Invite a person: they are created without a password and emailed a single-use "
        "link to choose one. An email address already in use is 409; nothing is created when a "
        "group or the manager is unknown.",
    )
    def post(self, request: Request) -> Response:
        data = UserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def create() -> Response:
            person = _invite(data.validated_data)
            response = self.with_etag(represent(person), status_code=status.HTTP_201_CREATED)
            response["Location"] = request.build_absolute_uri(
                reverse("management-api:user", args=[person.sub])
            )
            return response

        return self.created(create)


class UserDetailApi(ManagementApi):
    required_scopes = {"GET": "read:users", "PATCH": "update:users", "DELETE": "delete:users"}

    @extend_schema(
        operation_id="users_get",
        responses=responses({200: UserSerializer}, 404),
        description="One person, tombstones included (status deleted).",
    )
    def get(self, request: Request, user_id: UUID) -> Response:
        return self.with_etag(represent(user_by_id(user_id)))

    @extend_schema(
        operation_id="users_update",
        parameters=[IF_MATCH],
        request=UserUpdateSerializer,
        responses=responses({200: UserSerializer}, 404, 409, 412, 413, 415),
        description="Change profile fields (the claims their tokens carry) and the manager; the "
        "fields left out keep their values. A manager loop is 400; a deleted person is 409.",
    )
    def patch(self, request: Request, user_id: UUID) -> Response:
        data = UserUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def write(person: User) -> User:
            refuse_tombstone(person)
            profile = {name: getattr(person, name) for name in account_services.PROFILE_FIELDS}
            return account_services.user_update_profile(
                actor=None, user=person, **{**profile, **data.validated_data}
            )

        return self.guarded_write(User.objects.all(), represent, write, sub=user_id)

    @extend_schema(
        operation_id="users_delete",
        responses=responses({204: None}, 404, 409),
        description="Delete a person as the dashboard does: the row stays as a tombstone (name, "
        "former_email) for timesheets and the audit log; password, sessions, tokens, roles, "
        "groups, consents and staff access go, and their applications are told (back-channel "
        "logout). The last administrator, or someone already deleted, is 409.",
    )
    def delete(self, request: Request, user_id: UUID) -> Response:
        with transaction.atomic():
            person = person_for_write(user_id)
            keep_an_administrator(person)
            account_services.user_delete(
                actor=None,
                user=person,
                revoke_access=with_backchannel_logout(services.user_access_forget),
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _status_change(view: ManagementApi, user_id: UUID, change: Callable[[User], object]) -> Response:
    """Block or unblock, under a lock on the person; their new representation."""
    with transaction.atomic():
        person = person_for_write(user_id)
        change(person)
    return view.with_etag(represent(person))


class UserBlockApi(ManagementApi):
    required_scopes = {"POST": "update:users"}

    @extend_schema(
        operation_id="users_block",
        request=None,
        responses=responses({200: UserSerializer}, 404, 409),
        description="Block a person, as the dashboard's Block: they cannot sign in, every session "
        "ends, their refresh and access tokens are revoked and their applications are told "
        "(back-channel logout). Blocking someone blocked changes nothing. The last "
        "administrator, or a deleted person, is 409.",
    )
    def post(self, request: Request, user_id: UUID) -> Response:
        def block(person: User) -> None:
            keep_an_administrator(person)
            account_services.user_deactivate(
                actor=None,
                user=person,
                revoke_access=with_backchannel_logout(services.user_access_revoke),
            )

        return _status_change(self, user_id, block)


class UserUnblockApi(ManagementApi):
    required_scopes = {"POST": "update:users"}

    @extend_schema(
        operation_id="users_unblock",
        request=None,
        responses=responses({200: UserSerializer}, 404, 409),
        description="Let a blocked person sign in again; their old sessions and tokens stay ended. "
        "A deleted person is 409 (invite them again instead).",
    )
    def post(self, request: Request, user_id: UUID) -> Response:
        return _status_change(
            self, user_id, lambda person: account_services.user_reactivate(actor=None, user=person)
        )


urlpatterns: list[URLPattern] = [
    path("users", UserListApi.as_view(), name="users"),
    path("users/<uuid:user_id>", UserDetailApi.as_view(), name="user"),
    path("users/<uuid:user_id>/block", UserBlockApi.as_view(), name="user-block"),
    path("users/<uuid:user_id>/unblock", UserUnblockApi.as_view(), name="user-unblock"),
    *users_access.urlpatterns,
    *users_sign_in.urlpatterns,
]
