"""Daily statistics: sign-ins that succeeded and failed, and access tokens issued, per UTC day
(Auth0's ``GET /api/v2/stats/daily``). What each number is counted from is in
``stats_selectors``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from .base import ManagementApi, responses
from .stats_selectors import daily_stats

DEFAULT_DAYS = 30
MAX_DAYS = 366


class DailyStatsQuery(serializers.Serializer):
    """``from`` and ``to`` (a Python keyword and its pair): days, both included. A range that
    runs backwards holds no day."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {"from": serializers.DateField(required=False), "to": serializers.DateField(required=False)}

    def validate(self, data: dict[str, Any]) -> dict[str, date]:
        until = data.get("to") or datetime.now(UTC).date()
        since = data.get("from")
        if since is None:
            since = until - timedelta(days=DEFAULT_DAYS - 1) if until.toordinal() > DEFAULT_DAYS else date.min
        if (until - since).days + 1 > MAX_DAYS:
            raise serializers.ValidationError({"from": [f"At most {MAX_DAYS} days at a time."]})
        return {"since": since, "until": until}


class TokensByGrantTypeSerializer(serializers.Serializer):
    """Every grant type this server issues access tokens with, 0 when none was issued."""

    authorization_code = serializers.IntegerField(help_text="Codes redeemed: people signing in to an app.")
    refresh_token = serializers.IntegerField(help_text="Refreshes of people's tokens.")
    client_credentials = serializers.IntegerField(help_text="Machine clients' tokens.")


class DayStatsSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A day in UTC.")
    sign_ins_successful = serializers.IntegerField(help_text="Password sign-ins that succeeded.")
    sign_ins_failed = serializers.IntegerField(
        help_text="Sign-ins refused: a wrong password, an unknown account, or an account locked out."
    )
    access_tokens_issued = serializers.IntegerField(
        help_text="Access tokens issued, by every grant type. Each server process adds its count every few "
        "seconds, so the last seconds of today may not be in yet.",
    )
    access_tokens_by_grant_type = TokensByGrantTypeSerializer(
        help_text="The same tokens by the grant they were issued with."
    )


class DailyStatsApi(ManagementApi):
    required_scopes = {"GET": "read:stats"}

    @extend_schema(
        operation_id="stats_daily",
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.DATE, description="The first day (UTC); 29 days before `to` by default."
            ),
            OpenApiParameter("to", OpenApiTypes.DATE, description="The last day (UTC); today by default."),
        ],
        responses=responses({200: DayStatsSerializer(many=True)}),
        description=f"One entry per day, oldest first; at most {MAX_DAYS} days "
        "(none when `to` is before `from`).",
    )
    def get(self, request: Request) -> Response:
        query = DailyStatsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = daily_stats(**query.validated_data)
        return Response(DayStatsSerializer(days, many=True).data)


urlpatterns = [
    path("stats/daily", DailyStatsApi.as_view(), name="stats-daily"),
]
