"""What an import would change: the stored configuration compared with a file's, line by line.

Each ``Change`` is one API, application, client grant, role, group or rule to create,
change or remove, with the lines a person reviews (``+ scope read:reports``,
``token_lifetime 86400 → 600``). Removals list only what goes away.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

from django.db import models

from apis.models import Api
from clients.models import Client
from clients.types import PROFILES

from .transfer_format import (
    API_FIELDS,
    CLIENT_FIELDS,
    CLIENT_LISTS,
    MANAGEMENT,
    ApiSpec,
    ClientSpec,
    ConfigState,
    GroupSpec,
    RoleSpec,
)

Kind = Literal["api", "application", "client grant", "role", "group", "rule"]
LIST_WORDS = {"callbacks": "callback", "logout_urls": "logout URL", "allowed_origins": "allowed origin"}


@dataclass(frozen=True)
class Change:
    action: Literal["create", "change", "remove"]
    kind: Kind
    name: str
    details: tuple[str, ...] = ()


def _set_details(
    label: str, before: frozenset, after: frozenset, show: Callable[[Any], str] = str
) -> list[str]:
    added = [f"+ {label} {show(item)}" for item in sorted(after - before)]
    removed = [f"- {label} {show(item)}" for item in sorted(before - after)]
    return added + removed


def _value(value: Any) -> str:
    return f"“{value}”" if isinstance(value, str) else json.dumps(value)


def _defaults(model: type[models.Model], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: cast(models.Field, model._meta.get_field(name)).get_default() for name in names}


def _field_details(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    names: tuple[str, ...],
    defaults: Mapping[str, Any],
) -> list[str]:
    if not after:
        return []  # removed: only what goes away is listed
    if before is None:  # created: what differs from a new one's defaults
        return [f"{name} {_value(after[name])}" for name in names if after[name] != defaults.get(name)]
    return [
        f"{name} {_value(before[name])} → {_value(after[name])}"
        for name in names
        if before[name] != after[name]
    ]


def _description_details(before: str | None, after: str) -> list[str]:
    if before is None:
        return [f"description “{after}”"] if after else []
    return [f"description “{before}” → “{after}”"] if before != after else []


def _api_details(before: ApiSpec | None, after: ApiSpec) -> list[str]:
    old = before.scopes if before else {}
    return [
        *_field_details(
            before.settings if before else None, after.settings, API_FIELDS, _defaults(Api, API_FIELDS)
        ),
        *_set_details("scope", frozenset(old), frozenset(after.scopes)),
        *[
            f"scope {value} description “{old[value]}” → “{after.scopes[value]}”"
            for value in sorted(old.keys() & after.scopes.keys())
            if old[value] != after.scopes[value]
        ],
    ]


def _client_details(before: ClientSpec | None, after: ClientSpec, management: str | None = None) -> list[str]:
    lines = []
    if before is None:
        lines.append(f"app_type {after.app_type}")
        if after.app_type and not PROFILES[after.app_type].is_public:
            lines.append("a new client secret is generated and shown once")
    defaults = _defaults(Client, CLIENT_FIELDS)
    if after.app_type:
        defaults["token_endpoint_auth_method"] = PROFILES[after.app_type].default_auth_method
    lines += _field_details(before.settings if before else None, after.settings, CLIENT_FIELDS, defaults)
    for key in CLIENT_LISTS:
        lines += _set_details(LIST_WORDS[key], before.lists[key] if before else frozenset(), after.lists[key])

    def show(identifier: str) -> str:
        return MANAGEMENT if identifier == management else identifier

    old = before.may_introspect if before else frozenset()
    return lines + _set_details("may introspect", old, after.may_introspect, show)


def _role_details(before: RoleSpec | None, after: RoleSpec) -> list[str]:
    old = before or RoleSpec()
    return [
        *_description_details(before.description if before else None, after.description),
        *_set_details("permission", old.permissions, after.permissions, show=" ".join),
        *_set_details("user", old.users, after.users),
    ]


def _group_details(before: GroupSpec | None, after: GroupSpec) -> list[str]:
    old = before or GroupSpec()
    return [
        *_description_details(before.description if before else None, after.description),
        *_set_details("member", old.members, after.members),
        *_set_details("role", old.roles, after.roles),
        *_set_details("subgroup", old.subgroups, after.subgroups),
    ]


_Spec = TypeVar("_Spec")


def _diff_specs(
    kind: Kind,
    before: Mapping[str, _Spec],
    after: Mapping[str, _Spec],
    details: Callable[[_Spec | None, _Spec], list[str]],
    empty: _Spec,
) -> list[Change]:
    changes: list[Change] = []
    for name in sorted(after.keys() - before.keys()):
        changes.append(Change("create", kind, name, tuple(details(None, after[name]))))
    for name in sorted(after.keys() & before.keys()):
        if lines := details(before[name], after[name]):
            changes.append(Change("change", kind, name, tuple(lines)))
    for name in sorted(before.keys() - after.keys()):
        lines = [line for line in details(before[name], empty) if line.startswith("- ")]
        changes.append(Change("remove", kind, name, tuple(lines)))
    return changes


def diff(stored: ConfigState, wanted: ConfigState, *, management: str | None) -> list[Change]:
    """Every change that makes ``stored`` into ``wanted``, in the order they are applied."""

    def grants(state: ConfigState) -> dict[str, frozenset[str]]:
        shown = {
            (client, MANAGEMENT if api == management else api): scopes
            for (client, api), scopes in state.grants.items()
        }
        return {f"{client} → {api}": scopes for (client, api), scopes in shown.items()}

    no_client = ClientSpec("", dict.fromkeys(CLIENT_FIELDS, ""), {key: frozenset() for key in CLIENT_LISTS})
    changes = [
        *_diff_specs("api", stored.apis, wanted.apis, _api_details, ApiSpec({}, {})),
        *_diff_specs(
            "application",
            stored.applications,
            wanted.applications,
            lambda before, after: _client_details(before, after, management),
            no_client,
        ),
        *_diff_specs(
            "client grant",
            grants(stored),
            grants(wanted),
            lambda before, after: _set_details("scope", before or frozenset(), after),
            frozenset(),
        ),
        *_diff_specs("role", stored.roles, wanted.roles, _role_details, RoleSpec()),
        *_diff_specs("group", stored.groups, wanted.groups, _group_details, GroupSpec()),
    ]
    for path, rule in wanted.rules.items():
        current = stored.rules.get(path)
        lines = []
        if current is not None and current.enabled != rule.enabled:
            lines.append("enabled" if rule.enabled else "disabled")
        if current is not None and current.position != rule.position:
            lines.append(f"position {current.position} → {rule.position}")
        if lines:
            changes.append(Change("change", "rule", path, tuple(lines)))
    return changes
