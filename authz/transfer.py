"""Export and import of the authorization configuration: roles, groups, assignments, rules.

An export is plain JSON that names everything by what people see (role and group names,
API identifiers and scope values, user emails), never by database ids, so a file moves
between environments. An import makes the configuration match the file: roles and groups
that the file does not name are removed. It is planned first (validated as a whole, with
every problem reported at once, and compared with what is stored), then applied in one
transaction through the audited services. The file format itself, and the checks of a
file, are in ``transfer_format``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.json_input import JsonInputError, json_parse
from accounts.models import User
from apis.models import Scope

from . import services
from .models import Group, GroupNesting, Role
from .rules import registered_rules
from .transfer_format import (
    ConfigState,
    GroupSpec,
    Permission,
    RoleSpec,
    RuleSpec,
    config_as_json,
    read_config,
)


@dataclass(frozen=True)
class Change:
    action: Literal["create", "change", "remove"]
    kind: Literal["role", "group", "rule"]
    name: str
    details: tuple[str, ...] = ()


@dataclass
class ImportPlan:
    """A validated file (``state``) and what applying it would change in the stored configuration."""

    state: ConfigState
    changes: list[Change]

    @property
    def summary(self) -> dict[str, int]:
        """How many roles, groups and rules would be created, changed and removed."""
        counts = dict.fromkeys(("create", "change", "remove"), 0)
        for change in self.changes:
            counts[change.action] += 1
        return counts

    @property
    def fingerprint(self) -> str:
        """Identifies the changes shown in a preview, so that applying can tell if they moved on."""
        listed = [[c.action, c.kind, c.name, list(c.details)] for c in self.changes]
        return hashlib.sha256(json.dumps(listed, ensure_ascii=False).encode()).hexdigest()


# --- Export -------------------------------------------------------------------------------------


def _stored_state() -> ConfigState:
    """The stored configuration, in a fixed number of queries."""
    state = ConfigState()
    roles = Role.objects.prefetch_related("permissions__api", "users").order_by("name")
    for role in roles:
        state.roles[role.name] = RoleSpec(
            description=role.description,
            permissions=frozenset((scope.api.identifier, scope.value) for scope in role.permissions.all()),
            users=frozenset(user.email for user in role.users.all()),
        )
    groups = Group.objects.prefetch_related("members", "roles", "subgroups").order_by("name")
    for group in groups:
        state.groups[group.name] = GroupSpec(
            description=group.description,
            members=frozenset(user.email for user in group.members.all()),
            roles=frozenset(role.name for role in group.roles.all()),
            subgroups=frozenset(child.name for child in group.subgroups.all()),
        )
    for rule in registered_rules():
        state.rules[rule.path] = RuleSpec(enabled=rule.enabled, position=rule.position)
    return state


def export_config() -> dict[str, Any]:
    """The whole authorization configuration as JSON-ready data, sorted so that exports diff well."""
    return config_as_json(_stored_state())


# --- Reading a file -----------------------------------------------------------------------------


def load_config(text: str) -> dict[str, Any]:
    """Parse an uploaded file; ValidationError when it is not a JSON object."""
    try:
        data = json_parse(text)
    except JsonInputError as error:
        # Also nesting too deep to read safely and integers too long to convert.
        raise ValidationError(f"The file is not valid JSON: {error}.") from error
    if not isinstance(data, dict):
        raise ValidationError("The file must hold a JSON object with roles, groups, assignments and rules.")
    return data


# --- Planning -----------------------------------------------------------------------------------


def _set_details(label: str, before: frozenset, after: frozenset, show=str) -> list[str]:
    added = [f"+ {label} {show(item)}" for item in sorted(after - before)]
    removed = [f"- {label} {show(item)}" for item in sorted(before - after)]
    return added + removed


def _description_details(before: str | None, after: str) -> list[str]:
    if before is None:
        return [f"description “{after}”"] if after else []
    return [f"description “{before}” → “{after}”"] if before != after else []


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


_Spec = TypeVar("_Spec", RoleSpec, GroupSpec)


def _diff_specs(
    kind: Literal["role", "group"],
    before: dict[str, _Spec],
    after: dict[str, _Spec],
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


def _diff(stored: ConfigState, wanted: ConfigState) -> list[Change]:
    changes = [
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


def plan_import(data: dict[str, Any]) -> ImportPlan:
    """Validate ``data`` (a loaded export) as a whole and work out what applying it changes.

    Raises ValidationError listing every problem: unknown fields, APIs, scopes, users, roles
    or groups, duplicate names, nesting cycles. Registered rules that the file leaves out
    keep their settings; every other part of the configuration is replaced.
    """
    if not isinstance(data, dict):
        raise ValidationError("The file must hold a JSON object.")
    wanted, errors = read_config(data)
    if errors:
        raise ValidationError(errors)
    return ImportPlan(state=wanted, changes=_diff(_stored_state(), wanted))


# --- Applying -----------------------------------------------------------------------------------


@transaction.atomic
def apply_import(*, actor: User | None, plan: ImportPlan) -> list[Change]:
    """Make the stored configuration match ``plan.state``, all or nothing, audited as ``actor``.

    The changes are worked out again against what is stored now (inside the transaction),
    so a plan made a moment ago still ends in exactly the state of its file. Returns them.
    """
    wanted = plan.state
    stored = _stored_state()
    changes = _diff(stored, wanted)

    scopes = {(scope.api.identifier, scope.value): scope for scope in Scope.objects.select_related("api")}
    wanted_emails = set().union(
        *(role.users for role in wanted.roles.values()), *(group.members for group in wanted.groups.values())
    )
    stored_emails = set().union(
        *(role.users for role in stored.roles.values()), *(group.members for group in stored.groups.values())
    )
    users = {user.email: user for user in User.objects.filter(email__in=wanted_emails | stored_emails)}
    referenced = {permission for role in wanted.roles.values() for permission in role.permissions}
    # Something the plan checked may have been deleted since: refuse rather than half-apply.
    missing = [f"no user has the email {email}" for email in sorted(wanted_emails - users.keys())]
    missing += [f"the API {api} has no scope “{value}”" for api, value in sorted(referenced - scopes.keys())]
    if missing:
        raise ValidationError([f"The configuration changed: {problem}." for problem in missing])

    for group in Group.objects.filter(name__in=stored.groups.keys() - wanted.groups.keys()):
        services.group_delete(actor=actor, group=group)
    for role in Role.objects.filter(name__in=stored.roles.keys() - wanted.roles.keys()):
        services.role_delete(actor=actor, role=role)

    roles = _apply_roles(actor=actor, stored=stored, wanted=wanted, scopes=scopes, users=users)
    groups = _apply_groups(actor=actor, stored=stored, wanted=wanted, roles=roles, users=users)

    # Unnest first: every intermediate graph is then a part of the file's acyclic one.
    edges = {(parent, child) for parent, spec in wanted.groups.items() for child in spec.subgroups}
    for link in GroupNesting.objects.select_related("parent", "child"):
        if (link.parent.name, link.child.name) not in edges:
            services.group_unnest(actor=actor, parent=link.parent, child=link.child)
    for parent, child in sorted(edges):
        if child not in stored.groups.get(parent, GroupSpec()).subgroups:
            services.group_nest(actor=actor, parent=groups[parent], child=groups[child])

    for rule in registered_rules():
        target = wanted.rules.get(rule.path)
        if target is not None and (rule.enabled, rule.position) != (target.enabled, target.position):
            services.rule_update(actor=actor, rule=rule, enabled=target.enabled, position=target.position)
    return changes


def _apply_roles(
    *,
    actor: User | None,
    stored: ConfigState,
    wanted: ConfigState,
    scopes: dict[Permission, Scope],
    users: dict[str, User],
) -> dict[str, Role]:
    """Create and update the file's roles, their permissions and users; return them by name."""
    roles = {role.name: role for role in Role.objects.filter(name__in=wanted.roles.keys())}
    for name, spec in sorted(wanted.roles.items()):
        permissions = [scopes[permission] for permission in sorted(spec.permissions)]
        before = stored.roles.get(name)
        if before is None:
            roles[name] = services.role_create(
                actor=actor, name=name, description=spec.description, permissions=permissions
            )
        else:
            if before.description != spec.description:
                services.role_update(actor=actor, role=roles[name], name=name, description=spec.description)
            if before.permissions != spec.permissions:
                services.role_set_permissions(actor=actor, role=roles[name], permissions=permissions)
        old_users = before.users if before else frozenset()
        for email in sorted(spec.users - old_users):
            services.role_assign(actor=actor, role=roles[name], user=users[email])
        for email in sorted(old_users - spec.users):
            services.role_unassign(actor=actor, role=roles[name], user=users[email])
    return roles


def _apply_groups(
    *,
    actor: User | None,
    stored: ConfigState,
    wanted: ConfigState,
    roles: dict[str, Role],
    users: dict[str, User],
) -> dict[str, Group]:
    """Create and update the file's groups, their members and roles; return them by name."""
    groups = {group.name: group for group in Group.objects.filter(name__in=wanted.groups.keys())}
    for name, spec in sorted(wanted.groups.items()):
        before = stored.groups.get(name)
        if before is None:
            groups[name] = services.group_create(actor=actor, name=name, description=spec.description)
            before = GroupSpec(description=spec.description)
        elif before.description != spec.description:
            services.group_update(actor=actor, group=groups[name], name=name, description=spec.description)
        group = groups[name]
        for email in sorted(spec.members - before.members):
            services.group_add_member(actor=actor, group=group, user=users[email])
        for email in sorted(before.members - spec.members):
            services.group_remove_member(actor=actor, group=group, user=users[email])
        for role_name in sorted(spec.roles - before.roles):
            services.group_add_role(actor=actor, group=group, role=roles[role_name])
        # A role removed above took its links to groups with it.
        for role_name in sorted((before.roles - spec.roles) & roles.keys()):
            services.group_remove_role(actor=actor, group=group, role=roles[role_name])
    return groups
