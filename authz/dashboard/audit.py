"""The audit log page: every administrative change, filtered and paged, newest first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.apps import apps
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from accounts.decorators import staff_required
from accounts.models import AuditEntry
from accounts.views import HtmxHttpRequest

ENTRIES_PER_PAGE = 50
VALUE_MAX = 80  # characters of one before/after value shown in the table


# --- Reads ----------------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_entry_list(
    *,
    actor: str = "",
    action: str = "",
    target_type: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEntry]:
    """Entries newest first (ties broken by id, so that pages never overlap), narrowed.

    ``actor`` matches part of the actor's email as it was then; ``action`` is a prefix
    (``role.`` finds every role change); both dates are days in the current time zone,
    inclusive.
    """
    entries = AuditEntry.objects.select_related("actor").order_by("-at", "-id")
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if action:
        entries = entries.filter(action__startswith=action)
    if target_type:
        entries = entries.filter(target_type=target_type)
    if date_from:
        entries = entries.filter(at__gte=_start_of(date_from))
    if date_to:
        entries = entries.filter(at__lt=_start_of(date_to + timedelta(days=1)))
    return entries


def audit_target_types() -> list[str]:
    return list(
        AuditEntry.objects.exclude(target_type="")
        .order_by("target_type")
        .values_list("target_type", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class Change:
    """One field of an entry's before/after; ``None`` on a side means "not there"."""

    field: str
    before: str | None
    after: str | None


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _shown(value: Any) -> str:
    if _empty(value):
        return "—"
    if isinstance(value, list):
        text = ", ".join(item if isinstance(item, str) else json.dumps(item) for item in value)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def entry_changes(entry: AuditEntry) -> list[Change]:
    """What the entry changed, compactly.

    Unchanged fields are left out, and so are empty ones on a creation or deletion; a list
    that changed shows the items that went out and came in.
    """
    before, after = _as_dict(entry.before), _as_dict(entry.after)
    changes = []
    for field in [*before, *(name for name in after if name not in before)]:
        old, new = before.get(field), after.get(field)
        if field in before and field in after:
            if old == new:
                continue
            if isinstance(old, list) and isinstance(new, list):
                removed = [item for item in old if item not in new]
                added = [item for item in new if item not in old]
                changes.append(
                    Change(field, _shown(removed) if removed else None, _shown(added) if added else None)
                )
            else:
                changes.append(Change(field, _shown(old), _shown(new)))
        elif field in before and not _empty(old):
            changes.append(Change(field, _shown(old), None))
        elif field in after and not _empty(new):
            changes.append(Change(field, None, _shown(new)))
    return changes


# --- Form -----------------------------------------------------------------------------------


def _type_label(label: str) -> str:
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    return str(model._meta.verbose_name).capitalize()


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        label="Who",
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Actor email"}),
    )
    action = forms.CharField(
        label="Action",
        required=False,
        max_length=60,
        # A prefix: "role." finds every role change.
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "e.g. role."}),
    )
    target_type = forms.ChoiceField(label="Target", required=False)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, target_types: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target_type"].choices = [("", "Any")] + [
            (value, _type_label(value)) for value in target_types
        ]

    def clean_actor(self) -> str:
        return self.cleaned_data["actor"].strip()

    def clean_action(self) -> str:
        return self.cleaned_data["action"].strip()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        since, until = cleaned.get("date_from"), cleaned.get("date_to")
        if since and until and until < since:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


# --- View -----------------------------------------------------------------------------------


@require_GET
@staff_required
def audit_list(request: HtmxHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET, target_types=audit_target_types())
    page = rows = None
    if form.is_valid():
        page = Paginator(audit_entry_list(**form.cleaned_data), ENTRIES_PER_PAGE).get_page(
            request.GET.get("page")
        )
        rows = [(entry, entry_changes(entry)) for entry in page]
    # A history restore needs the whole page, even though htmx asks for it.
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    # The filters stay on the page while the results swap: their errors travel out of band.
    context = {"form": form, "page": page, "rows": rows, "oob_errors": partial}
    template = "authz/audit/audit_list.html#results" if partial else "authz/audit/audit_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
