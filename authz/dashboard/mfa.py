"""The Multi-factor page of the staff dashboard: who must sign in with a second factor.

Saving is two steps: the form, then a confirmation that says how many people the policy
asks and how many of them have no factor yet (they set one up at their next sign-in).
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from accounts.dashboard import (
    ConfirmForm,
    HtmxHttpRequest,
    add_service_errors,
    fragment_or_redirect,
    render_page_or_fragment,
)
from accounts.decorators import staff_required
from clients.models import Client

from ..mfa import PolicyReach, mfa_policy, mfa_policy_set, people_asked, policy_reach
from ..models import Group, MfaPolicy

logger = logging.getLogger(__name__)

TEMPLATE = "authz/mfa/mfa_policy.html"
MODE_HELP = {
    MfaPolicy.Mode.NEVER: "A second factor is each person's choice. Whoever set one up still uses it.",
    MfaPolicy.Mode.STAFF: "Everyone with dashboard access (administrators and auditors).",
    MfaPolicy.Mode.GROUPS: "Members of the groups you choose, and of the groups nested in them.",
}


class MfaPolicyForm(forms.Form):
    mode = forms.ChoiceField(
        label="Who must sign in with a second factor",
        choices=MfaPolicy.Mode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who must use a second factor."},
    )
    groups = forms.ModelMultipleChoiceField(
        label="Groups",
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Members of a group nested in a chosen group are asked too.",
        error_messages={"invalid_choice": "That group no longer exists. Reload the page and choose again."},
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # Form.clean's stub says it may return None; it returns this
        if data.get("mode") == MfaPolicy.Mode.GROUPS and not data.get("groups"):
            self.add_error("groups", "Choose at least one group, or another option.")
        return data

    def mode_choices(self) -> list[tuple[Any, str]]:
        """Each radio with what it means."""
        return [(radio, MODE_HELP[MfaPolicy.Mode(radio.data["value"])]) for radio in self["mode"]]

    def group_ids(self) -> list[int]:
        return [group.pk for group in self.cleaned_data.get("groups") or []]


def _current_form() -> MfaPolicyForm:
    policy = mfa_policy()
    groups = list(policy.groups.values_list("pk", flat=True)) if policy.pk else []
    return MfaPolicyForm(initial={"mode": policy.mode, "groups": groups})


def consequence(mode: str, reach: PolicyReach) -> str:
    """The sentence the confirmation box is labelled with."""
    if mode == MfaPolicy.Mode.NEVER:
        return (
            "I understand: nobody will be required to use a second factor; "
            "people who set one up keep being asked for it."
        )
    people = "1 person" if reach.people == 1 else f"{reach.people} people"
    without = (
        "none of them lacks one"
        if reach.without_factor == 0
        else f"{reach.without_factor} of them {'has' if reach.without_factor == 1 else 'have'} none yet "
        "and will set one up at their next sign-in"
    )
    return f"I understand: {people} will need a second factor at every sign-in; {without}."


def _render(request: HtmxHttpRequest, **context: Any) -> HttpResponse:
    """The page, or its policy fragment for htmx. Always 200: htmx swaps no error status,
    and a form with errors is an answer to show, not a failure."""
    context = {
        "policy": mfa_policy(),
        "form": context.pop("form", None) or _current_form(),
        "mfa_clients": Client.objects.filter(require_mfa=True).order_by("name"),
        **context,
    }
    return render_page_or_fragment(request, TEMPLATE, "policy", context)


def _confirm_step(
    request: HtmxHttpRequest, form: MfaPolicyForm, confirm: ConfirmForm | None = None
) -> HttpResponse:
    mode, group_ids = form.cleaned_data["mode"], form.group_ids()
    reach = policy_reach(mode, group_ids)
    confirm = confirm or ConfirmForm(consequence=consequence(mode, reach))
    asks_you = people_asked(mode, group_ids).filter(pk=request.user.pk).exists()
    step = {
        "form": confirm,
        "mode": mode,
        "label": MfaPolicy.Mode(mode).label,
        "groups": form.cleaned_data.get("groups") or [],
        "reach": reach,
        "asks_you": asks_you,
    }
    return _render(request, form=form, confirm=step)


@require_http_methods(["GET", "POST"])
@staff_required
def mfa_policy_page(request: HtmxHttpRequest) -> HttpResponse:
    """GET: the policy; POST: the confirmation step, then (with the box ticked) the change."""
    if request.method == "GET":
        return _render(request)
    form = MfaPolicyForm(request.POST)
    if not form.is_valid():
        return _render(request, form=form)
    if "step" not in request.POST:
        return _confirm_step(request, form)
    reach = policy_reach(form.cleaned_data["mode"], form.group_ids())
    confirm = ConfirmForm(request.POST, consequence=consequence(form.cleaned_data["mode"], reach))
    if not confirm.is_valid():
        # "This field is required." says nothing about what to do here.
        confirm.errors["confirm"] = confirm.error_class(["Tick the box to confirm, or cancel."])
        return _confirm_step(request, form, confirm)
    try:
        policy = mfa_policy_set(
            actor=request.user, mode=form.cleaned_data["mode"], groups=form.cleaned_data["groups"]
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return _render(request, form=form)
    logger.info("mfa policy set: mode=%s by=%s", policy.mode, request.user.pk)
    notice = f"Saved: {policy.get_mode_display().lower()}. It applies from each person's next sign-in."
    if policy.mode == MfaPolicy.Mode.NEVER:
        notice = "Saved: nobody is required to use a second factor."
    return fragment_or_redirect(
        request, lambda: _render(request, notice=notice), notice=notice, to="mfa:policy"
    )
