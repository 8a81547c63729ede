"""The token preview as an endpoint: what a token would say for a person, an application and
an API, and why each scope is granted or not.

It asks ``authz.preview.token_preview``, as the dashboard's Token preview page does, which
runs the token endpoint's own policy and rules (the signature is all it leaves out).
Nothing is issued or written.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import user_list
from apis.rest.problems import UnknownReference
from apis.rest.serializers import StrictSerializer
from apis.selectors import api_list
from authz.preview import token_preview
from clients.selectors import client_list

from .base import ManagementApi, responses

SCOPES_MAX_LENGTH = 2000


class TokenQuestionSerializer(StrictSerializer):
    client_id = serializers.CharField(max_length=100, help_text="The application asking for the token.")
    user_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The person signing in (their `sub`); none for a machine-to-machine application.",
    )
    audience = serializers.CharField(
        max_length=255,
        required=False,
        allow_null=True,
        help_text="The API's identifier; none for a token that only reaches /userinfo.",
    )
    scopes = serializers.CharField(
        max_length=SCOPES_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="Space-separated, as in the scope parameter, e.g. `openid profile read:timesheets`.",
    )


class ScopeDecisionSerializer(serializers.Serializer):
    scope = serializers.CharField()
    granted = serializers.BooleanField()
    reason = serializers.CharField()


class TokenPreviewSerializer(serializers.Serializer):
    denied = serializers.CharField(
        allow_null=True, help_text="Why no token would be issued (then no claims); null if one would."
    )
    decisions = ScopeDecisionSerializer(many=True, help_text="Each requested scope, granted or not, and why.")
    access_token = serializers.DictField(allow_null=True, help_text="The access token's claims.")
    id_token = serializers.DictField(
        allow_null=True, help_text="The ID token's claims, when a person asks for `openid`."
    )
    refresh_token = serializers.BooleanField(help_text="Whether a refresh token would come with it.")


def _one(queryset: QuerySet, field: str, **lookup: Any) -> Any:
    """The object ``lookup`` names, or a 404 pointing at the request's ``field``."""
    found = queryset.filter(**lookup).first()
    if found is None:
        raise UnknownReference({field: ["There is no such one."]})
    return found


class TokenPreviewApi(ManagementApi):
    required_scopes = {"POST": "read:rules"}

    @extend_schema(
        operation_id="token_preview",
        request=TokenQuestionSerializer,
        responses=responses({200: TokenPreviewSerializer}, 404, 413, 415),
        description="What the token endpoint would issue to this application for this person and "
        "API: each scope's decision, and the claims after the enabled rules ran. Needs `read:rules` "
        "(it shows what the rules add). Nothing is issued; unknown people, applications or APIs are 400.",
    )
    def post(self, request: Request) -> Response:
        data = TokenQuestionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asked = data.validated_data
        client = _one(client_list(), "client_id", client_id=asked["client_id"])
        user = None if asked.get("user_id") is None else _one(user_list(), "user_id", sub=asked["user_id"])
        audience = asked.get("audience")
        api = None if audience is None else _one(api_list(), "audience", identifier=audience)
        preview = token_preview(user=user, client=client, api=api, requested=asked["scopes"].split())
        return Response(
            {
                "denied": preview.denied,
                "decisions": ScopeDecisionSerializer(preview.decisions, many=True).data,
                "access_token": preview.access_token,
                "id_token": preview.id_token,
                "refresh_token": preview.refresh_token,
            }
        )


urlpatterns: list[URLPattern] = [
    path("token-preview", TokenPreviewApi.as_view(), name="token-preview"),
]
