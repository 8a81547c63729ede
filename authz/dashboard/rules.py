"""The Rules section of the staff dashboard: which token rules run, and in which order."""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from http import HTTPStatus

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import staff_required
from accounts.models import User
from accounts.views import HtmxHttpRequest
from authz.models import RuleSetting
from authz.rules import registered_rules
from authz.services import rule_update

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleRow:
    setting: RuleSetting
    name: str
    summary: str
    first: bool
    last: bool


class RuleChangeForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("enable", "Enable"), ("disable", "Disable"), ("up", "Move up"), ("down", "Move down")]
    )


def _summary(path: str) -> str:
    """The first paragraph of the rule's docstring: what it adds or does."""
    try:
        rule = import_string(path)
    except ImportError:
        return "This rule cannot be loaded: check its path in settings.AUTHZ_RULES."
    doc = inspect.getdoc(rule) or ""
    return " ".join(doc.split("\n\n")[0].split()) or "No description: give the function a docstring."


def _rows(rules: list[RuleSetting]) -> list[RuleRow]:
    return [
        RuleRow(rule, rule.path.rsplit(".", 1)[-1], _summary(rule.path), index == 0, index == len(rules) - 1)
        for index, rule in enumerate(rules)
    ]


@transaction.atomic
def _rule_move(*, actor: User, rules: list[RuleSetting], index: int, offset: int) -> None:
    # Number the rules 0, 1, 2… in their new order; only the ones whose position changes are
    # written (and audited). Stored positions may tie or have gaps (a rule left the settings).
    order = list(rules)
    order[index], order[index + offset] = order[index + offset], order[index]
    for position, rule in enumerate(order):
        if rule.position != position:
            rule_update(actor=actor, rule=rule, enabled=rule.enabled, position=position)


def _render(request: HtmxHttpRequest, *, status: HTTPStatus = HTTPStatus.OK, **context) -> HttpResponse:
    context = {"rules": _rows(registered_rules()), **context}
    template = "authz/rules/rule_list.html#rules" if request.htmx else "authz/rules/rule_list.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@staff_required
def rule_list(request: HtmxHttpRequest) -> HttpResponse:
    return _render(request)


@require_POST
@staff_required
def rule_change(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    rules = registered_rules()
    index = next((i for i, rule in enumerate(rules) if rule.pk == pk), None)
    if index is None:
        raise Http404("No such rule.")
    rule = rules[index]
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
        offset = -1 if action == "up" else 1
        if not 0 <= index + offset < len(rules):
            return _render(
                request,
                status=HTTPStatus.BAD_REQUEST,
                error=f"“{name}” is already {'first' if offset < 0 else 'last'}.",
            )
        _rule_move(actor=request.user, rules=rules, index=index, offset=offset)
        notice = f"“{name}” moved {action}."
    logger.info("token rule changed: rule=%s action=%s user=%s", rule.path, action, request.user.pk)
    if not request.htmx:
        messages.success(request, notice)
        return redirect("rules:list")
    return _render(request, notice=notice)
