"""Token rules: which run, and in which order, through the same services as the dashboard.

The rules themselves are code (``settings.AUTHZ_RULES``); what can be managed is each one's
switch and its place in the running order. A rule is named by its dotted path, as in
settings and in the configuration file. The list is short and fixed by settings, so it is
one document in running order (with an ETag), not a paged collection. The token preview
is in ``rules_preview``.
"""

from __future__ import annotations

import logging
from typing import cast

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apis.rest.serializers import StrictSerializer
from authz.models import RuleSetting
from authz.rules import registered_rules, rule_summary
from authz.services import rule_move, rule_update

from .base import IF_MATCH, ManagementApi, responses
from .rules_preview import urlpatterns as preview_patterns

logger = logging.getLogger(__name__)


class RuleSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="The rule's dotted path in settings.AUTHZ_RULES: its id.")
    name = serializers.CharField()
    description = serializers.CharField(help_text="The first paragraph of the rule's docstring.")
    enabled = serializers.BooleanField()
    position = serializers.IntegerField(help_text="Its place in the running order, from 0.")


class RuleUpdateSerializer(StrictSerializer):
    enabled = serializers.BooleanField(required=False)
    position = serializers.IntegerField(
        min_value=0, required=False, help_text="The place to move it to, from 0 (first)."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The number of rules is fixed by settings: the schema can say how far a rule may move.
        position = cast(serializers.IntegerField, self.fields["position"])
        position.max_value = len(settings.AUTHZ_RULES) - 1
        position.validators.append(MaxValueValidator(position.max_value))


def _represent_all(order: list[RuleSetting]) -> list[dict]:
    return [
        {
            "path": rule.path,
            "name": rule.path.rsplit(".", 1)[-1],
            "description": rule_summary(rule.path),
            "enabled": rule.enabled,
            "position": index,
        }
        for index, rule in enumerate(order)
    ]


def represent(rule: RuleSetting) -> dict:
    return next(entry for entry in _represent_all(registered_rules()) if entry["path"] == rule.path)


class RuleListApi(ManagementApi):
    required_scopes = {"GET": "read:rules"}

    @extend_schema(
        operation_id="rules_list",
        responses=responses({200: RuleSerializer(many=True)}),
        description="Every rule of settings.AUTHZ_RULES, in the order they run.",
    )
    def get(self, request: Request) -> Response:
        return self.with_etag(_represent_all(registered_rules()))


class RuleDetailApi(ManagementApi):
    required_scopes = {"GET": "read:rules", "PATCH": "update:rules"}

    @extend_schema(operation_id="rules_get", responses=responses({200: RuleSerializer}, 404))
    def get(self, request: Request, path: str) -> Response:
        return self.with_etag(represent(_registered(path)))

    @extend_schema(
        operation_id="rules_update",
        parameters=[IF_MATCH],
        request=RuleUpdateSerializer,
        responses=responses({200: RuleSerializer}, 404, 412, 413, 415),
        description="Switch the rule on or off, and/or move it to another place in the running "
        "order (the others keep their order around it). Changes reach every process at once.",
    )
    def patch(self, request: Request, path: str) -> Response:
        data = RuleUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = data.validated_data
        _registered(path)  # a rule not yet switched has its row now, to lock

        def write(rule: RuleSetting) -> None:
            enabled = changes.get("enabled", rule.enabled)
            if enabled != rule.enabled:
                rule_update(actor=None, rule=rule, enabled=enabled, position=rule.position)
            target = changes.get("position")
            if target is not None:
                index = represent(rule)["position"]
                if target != index:
                    rule_move(actor=None, rule=rule, offset=target - index)
            logger.info("token rule changed: rule=%s changes=%s", rule.path, sorted(changes))

        return self.guarded_write(RuleSetting.objects.all(), represent, write, path=path)


def _registered(path: str) -> RuleSetting:
    """The setting of the registered rule ``path`` (404 for any other)."""
    rule = next((rule for rule in registered_rules() if rule.path == path), None)
    if rule is None:
        raise RuleSetting.DoesNotExist("No such rule in settings.AUTHZ_RULES.")
    return rule


urlpatterns: list[URLPattern] = [
    path("rules", RuleListApi.as_view(), name="rules"),
    path("rules/<str:path>", RuleDetailApi.as_view(), name="rule"),
    *preview_patterns,
]
