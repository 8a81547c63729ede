"""The Rules section of the staff dashboard: which token rules run, and in which order."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.models import get_refresh_token_model

from accounts.dashboard import ConfirmForm, HtmxHttpRequest, fragment_or_redirect, render_page, wants_fragment
from accounts.decorators import staff_required
from accounts.models import User
from authz.models import RuleSetting
from authz.rules import registered_rules, rule_summary
from authz.services import rule_move, rule_update

from .forms import RuleChangeForm

logger = logging.getLogger(__name__)

DENY_DEACTIVATED = "authz.rules.deny_deactivated_users"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def deny_deactivated_off_consequence() -> str:
    """What switching off ``deny_deactivated_users`` lets through, counted today.

    Deactivated people cannot sign in (the sign-in refuses them), so what the rule still
    stops is a refresh: a refresh token issued before the deactivation and not revoked
    (deactivating revokes them, an import or a change in the database may not).
    """
    deactivated = User.objects.filter(is_active=False)
    families = (
        get_refresh_token_model()
        .objects.filter(user__in=deactivated, revoked__isnull=True)
        .values("token_family")
        .distinct()
        .count()
    )
    count = deactivated.count()
    people = _plural(count, "deactivated person holds", "deactivated people hold")
    grants = _plural(families, "live grant", "live grants")
    return (
        "Deactivated people could get new access tokens again by refreshing a refresh token "
        f"issued before they were deactivated. Today {people} {grants} that would work again."
    )


# Switching these rules off opens a door: the page says what it lets through, and waits for a
# ticked box (ConfirmForm) before it does it.
GUARDED = {DENY_DEACTIVATED: deny_deactivated_off_consequence}
OFF_CONFIRMATION = "I understand what switching this rule off lets through."


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
    if action == "disable" and rule.enabled and rule.path in GUARDED:
        confirm = ConfirmForm(request.POST if "step" in request.POST else None, consequence=OFF_CONFIRMATION)
        if not confirm.is_valid():
            # The confirm step: nothing changes until the box is ticked.
            step = {"rule": rule, "name": name, "form": confirm, "consequence": GUARDED[rule.path]()}
            return _render(request, confirm=step)
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
