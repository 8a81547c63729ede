"""Where a person is signed in, through the Management API: their browser sessions on this
server and their applications' live refresh tokens, each of which can be ended.

Ending one is a change to the person (``update:users``), as on the dashboard's person page;
the token itself is never shown, only which application holds it and since when.
"""

from __future__ import annotations

from uuid import UUID

from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from oauth2_provider.models import get_refresh_token_model
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services as account_services
from accounts.models import UserSession
from accounts.sessions import user_session_list

from .. import services
from ..selectors import user_refresh_tokens
from .base import ManagementApi, responses
from .users_selectors import user_by_id
from .users_serializers import path_id

RefreshToken = get_refresh_token_model()


class UserSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ip = serializers.IPAddressField(allow_null=True, help_text="The address it signed in from.")
    user_agent = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()


class UserRefreshTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    client_id = serializers.CharField(source="application.client_id")
    client_name = serializers.CharField(source="application.name")
    created_at = serializers.DateTimeField(source="created")
    idle_expires_at = serializers.DateTimeField(
        source="idle_expires", help_text="When it lapses unless used before (the client's idle limit)."
    )


class UserSessionsApi(ManagementApi):
    required_scopes = {"GET": "read:users"}

    @extend_schema(
        operation_id="users_sessions_list",
        responses=responses({200: UserSessionSerializer(many=True)}, 404),
        description="The person's browser sessions on this server that have not ended, newest first.",
    )
    def get(self, request: Request, user_id: UUID) -> Response:
        return Response(UserSessionSerializer(user_session_list(user=user_by_id(user_id)), many=True).data)


class UserSessionApi(ManagementApi):
    required_scopes = {"DELETE": "update:users"}

    @extend_schema(
        operation_id="users_sessions_end",
        parameters=[path_id("session_id", "session")],
        responses=responses({204: None}, 404),
        description="Sign that browser out: its next request is anonymous.",
    )
    def delete(self, request: Request, user_id: UUID, session_id: int) -> Response:
        person = user_by_id(user_id)
        session = get_object_or_404(UserSession.objects.select_related("user"), user=person, pk=session_id)
        account_services.session_end(actor=None, session=session)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserRefreshTokensApi(ManagementApi):
    required_scopes = {"GET": "read:users"}

    @extend_schema(
        operation_id="users_refresh_tokens_list",
        responses=responses({200: UserRefreshTokenSerializer(many=True)}, 404),
        description="The person's live refresh tokens (not revoked, not idle past their "
        "application's limit), by application.",
    )
    def get(self, request: Request, user_id: UUID) -> Response:
        tokens = user_refresh_tokens(user_by_id(user_id))
        return Response(UserRefreshTokenSerializer(tokens, many=True).data)


class UserRefreshTokenApi(ManagementApi):
    required_scopes = {"DELETE": "update:users"}

    @extend_schema(
        operation_id="users_refresh_tokens_revoke",
        parameters=[path_id("token_id", "refresh token")],
        responses=responses({204: None}, 404),
        description="Revoke a refresh token with the rest of its grant: every refresh token of "
        "the family and the access tokens minted from them. One already revoked is 404.",
    )
    def delete(self, request: Request, user_id: UUID, token_id: int) -> Response:
        person = user_by_id(user_id)
        token = get_object_or_404(
            RefreshToken.objects.select_related("application", "user"),
            user=person,
            pk=token_id,
            revoked__isnull=True,
        )
        services.refresh_token_revoke(actor=None, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns: list[URLPattern] = [
    path("users/<uuid:user_id>/sessions", UserSessionsApi.as_view(), name="user-sessions"),
    path("users/<uuid:user_id>/sessions/<int:session_id>", UserSessionApi.as_view(), name="user-session"),
    path(
        "users/<uuid:user_id>/refresh-tokens",
        UserRefreshTokensApi.as_view(),
        name="user-refresh-tokens",
    ),
    path(
        "users/<uuid:user_id>/refresh-tokens/<int:token_id>",
        UserRefreshTokenApi.as_view(),
        name="user-refresh-token",
    ),
]
