"""Where an audit entry's target lives in the dashboard, found for a whole page of entries at
once: one query per type of target on the page, never one per row.

``accounts`` imports no app above it, so the targets' models are named by their labels (as
``AuditEntry.target_type`` stores them) and their pages by URL name; a type whose app or
page is missing simply has no link.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse

from .models import AuditEntry

# target_type -> (URL name, the target's column holding that page's id; None: a page with none).
TARGET_PAGES: dict[str, tuple[str, str | None]] = {
    "accounts.user": ("users:detail", "pk"),
    "authz.role": ("roles:detail", "pk"),
    "authz.group": ("groups:detail", "pk"),
    "apis.api": ("apis:detail", "pk"),
    "apis.scope": ("apis:detail", "api_id"),  # a scope is edited on its API's page
    "clients.client": ("clients:detail", "pk"),
    "authz.rulesetting": ("rules:list", None),  # one page for every rule, a row per rule
}


@dataclass(frozen=True)
class Target:
    """An entry's target as the page shows it: ``url`` when it still exists and has a page;
    ``deleted`` when it had one and is gone."""

    label: str
    url: str | None = None
    deleted: bool = False


def _page_url(name: str, page_id: object | None, target_id: str) -> str | None:
    try:
        if page_id is None:
            # The rules list has one row per rule, each with an id to jump to.
            return f"{reverse(name)}#rule-{target_id}"
        return reverse(name, args=[page_id])
    except NoReverseMatch:
        return None


def _existing(target_type: str, ids: set[str]) -> dict[str, object | None] | None:
    """``{target id: its page's id}`` for those of ``ids`` still stored; None when the type
    has no page here."""
    column = TARGET_PAGES[target_type][1]
    try:
        model = apps.get_model(target_type)
    except (LookupError, ValueError):
        return None
    asked: dict[object, list[str]] = defaultdict(list)  # an id as the model holds it -> as logged
    for target_id in ids:
        try:
            asked[model._meta.pk.to_python(target_id)].append(target_id)
        except ValidationError:
            continue  # not an id of this model: nothing to find
    columns = ("pk",) if column in (None, "pk") else ("pk", column)
    rows = model._default_manager.filter(pk__in=list(asked)).values_list(*columns)
    return {logged: (row[-1] if column else None) for row in rows for logged in asked[row[0]]}


def audit_targets(entries: Iterable[AuditEntry]) -> dict[int, Target]:
    """Each entry's target (by entry id), with a link to its page when it still exists."""
    entries = list(entries)
    wanted: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if entry.target_type in TARGET_PAGES and entry.target_id:
            wanted[entry.target_type].add(entry.target_id)
    found = {target_type: _existing(target_type, ids) for target_type, ids in wanted.items()}
    targets = {}
    for entry in entries:
        label = entry.target_label or entry.target_id
        existing = found.get(entry.target_type)
        if existing is None or not entry.target_id:
            targets[entry.pk] = Target(label)
        elif entry.target_id in existing:
            name = TARGET_PAGES[entry.target_type][0]
            targets[entry.pk] = Target(label, url=_page_url(name, existing[entry.target_id], entry.target_id))
        else:
            targets[entry.pk] = Target(label, deleted=True)
    return targets
