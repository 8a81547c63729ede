"""The Rules section of the staff dashboard: which token rules run, and in which order."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from accounts.dashboard import HtmxHttpRequest, fragment_or_redirect, render_page, wants_fragment
from accounts.decorators import staff_required
from authz.models import RuleSetting
from authz.rules import registered_rules, rule_summary
from authz.services import rule_move, rule_update

from .forms import RuleChangeForm

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleRow:
    setting: RuleSetting
    name: str
    summary: str
    first: bool
    last: bool


def _rows(rules: list[RuleSetting]) -> list[RuleRow]:
    return [
        RuleRow(
            rule, rule.path.rsplit(".", 1)[-1], rule_summary(rule.path), index == 0, index == len(rules) - 1
        )
        for index, rule in enumerate(rules)
    ]


def _render(request: HtmxHttpRequest, *, status: int = HTTPStatus.OK, **context: Any) -> HttpResponse:
    """The page, or its list of rules alone (for htmx)."""
    context = {"rules": _rows(registered_rules()), **context}
    fragment = "rules" if wants_fragment(request) else None
    return render_page(request, "authz/rules/rule_list.html", context, fragment=fragment, status=status)


@require_GET
@staff_required
def rule_list(request: HtmxHttpRequest) -> HttpResponse:
    return _render(request)


@require_POST
@staff_required
def rule_change(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    rule = next((rule for rule in registered_rules() if rule.pk == pk), None)
    if rule is None:
        raise Http404("No such rule.")
    form = RuleChangeForm(request.POST)
    if not form.is_valid():
        return _render(
            request, status=HTTPStatus.BAD_REQUEST, error="Choose enable, disable, move up or move down."
        )
    action = form.cleaned_data["action"]
    name = rule.path.rsplit(".", 1)[-1]
    if action in ("enable", "disable"):
        enabled = action == "enable"
        if rule.enabled != enabled:  # a second click from a stale page changes nothing
            rule_update(actor=request.user, rule=rule, enabled=enabled, position=rule.position)
        notice = f"“{name}” {action}d."
    else:
        try:
            rule_move(actor=request.user, rule=rule, offset=-1 if action == "up" else 1)
        except ValidationError as error:
            return _render(request, status=HTTPStatus.BAD_REQUEST, error=error.messages[0])
        notice = f"“{name}” moved {action}."
    logger.info("token rule changed: rule=%s action=%s user=%s", rule.path, action, request.user.pk)
    return fragment_or_redirect(
        request, lambda: _render(request, notice=notice), notice=notice, to="rules:list"
    )
