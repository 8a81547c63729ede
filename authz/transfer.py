"""Export and import of the whole configuration: APIs, applications, client grants, roles,
groups, assignments and rules.

An export is plain JSON that names everything by what people see (API identifiers and
scope values, client ids, role and group names, user emails), never by database ids, and
never holds a secret, so a file moves between environments. An import makes the
configuration match the file: APIs, applications, grants, roles and groups that the file
does not name are removed; registered rules it leaves out keep their settings. It is
planned first (validated as a whole, with every problem reported at once and where it is,
and compared with what is stored), then applied in one transaction through the audited
services, after checking the file again. The format is in ``transfer_format``, the checks
of a file in ``transfer_read``, the comparison in ``transfer_diff``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction

from accounts.json_input import JsonInputError, json_parse
from accounts.models import User
from apis.models import Scope

from . import services
from .models import Group, GroupNesting, Role
from .rules import registered_rules
from .transfer_apps import apply_apis, apply_applications, remove_apps, stored_apps
from .transfer_diff import Change, diff
from .transfer_format import (
    ConfigInvalid,
    ConfigState,
    GroupSpec,
    Permission,
    Problem,
    RoleSpec,
    RuleSpec,
    config_as_json,
    problem_at,
)
from .transfer_read import read_config, system_api

__all__ = [
    "Change",
    "ConfigInvalid",
    "ImportPlan",
    "ImportResult",
    "Problem",
    "apply_import",
    "export_config",
]
__all__ += ["load_config", "plan_import"]


@dataclass
class ImportPlan:
    """A validated file (``data``, read into ``state``) and what applying it would change."""

    data: dict[str, Any]
    state: ConfigState
    changes: list[Change]

    @property
    def summary(self) -> dict[str, int]:
        """How many things would be created, changed and removed."""
        counts = dict.fromkeys(("create", "change", "remove"), 0)
        for change in self.changes:
            counts[change.action] += 1
        return counts

    @property
    def fingerprint(self) -> str:
        """Identifies the changes shown in a preview, so that applying can tell if they moved on."""
        listed = [[c.action, c.kind, c.name, list(c.details)] for c in self.changes]
        return hashlib.sha256(json.dumps(listed, ensure_ascii=False).encode()).hexdigest()


@dataclass
class ImportResult:
    """What applying did, and the secrets of the confidential applications it created (by
    client id): they exist in clear only here, to be shown once."""

    changes: list[Change]
    secrets: dict[str, str] = field(default_factory=dict)


# --- Export -------------------------------------------------------------------------------------


def _management() -> str | None:
    api = system_api()
    return api.identifier if api else None


def _stored_state() -> ConfigState:
    """The stored configuration, in a fixed number of queries."""
    state = ConfigState()
    stored_apps(state)
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
    """The whole configuration as JSON-ready data, sorted so that exports diff well. No secrets."""
    return config_as_json(_stored_state(), management=_management())


# --- Reading a file -----------------------------------------------------------------------------


def load_config(text: str) -> dict[str, Any]:
    """Parse an uploaded file; ValidationError when it is not a JSON object."""
    try:
        data = json_parse(text)
    except JsonInputError as error:
        # Also nesting too deep to read safely and integers too long to convert.
        raise ConfigInvalid([Problem("", f"The file is not valid JSON: {error}.")]) from error
    if not isinstance(data, dict):
        raise ConfigInvalid([Problem("", "The file must hold a JSON object, as an export does.")])
    return data


# --- Planning -----------------------------------------------------------------------------------


def _wanted(data: dict[str, Any], stored: ConfigState) -> ConfigState:
    """The state ``data`` asks for, checked against what is stored now; ConfigInvalid if not."""
    if not isinstance(data, dict):
        raise ConfigInvalid([Problem("", "The file must hold a JSON object, as an export does.")])
    wanted, problems = read_config(data)
    if problems:
        raise ConfigInvalid(problems)
    if wanted.partial:  # a version 1 file: APIs and applications stay as they are
        wanted = replace(wanted, apis=stored.apis, applications=stored.applications, grants=stored.grants)
    return wanted


def plan_import(data: dict[str, Any]) -> ImportPlan:
    """Validate ``data`` (a loaded export) as a whole and work out what applying it changes.

    Raises ConfigInvalid (a ValidationError) listing every problem, each with its path in
    the file: unknown fields, secrets, APIs, scopes, applications, users, roles or groups,
    invalid URLs and settings, duplicates, nesting cycles.
    """
    stored = _stored_state()
    wanted = _wanted(data, stored)
    return ImportPlan(data=data, state=wanted, changes=diff(stored, wanted, management=_management()))


# --- Applying -----------------------------------------------------------------------------------


@transaction.atomic
def apply_import(*, actor: User | None, plan: ImportPlan) -> ImportResult:
    """Make the stored configuration match ``plan``'s file, all or nothing, audited as ``actor``
    (None: "system").

    The file is checked again and the changes worked out again against what is stored now
    (inside the transaction), so a plan made a moment ago still ends in exactly the state of
    its file, or in nothing at all (ConfigInvalid). Returns the changes, and the secrets of
    the applications it created.
    """
    stored = _stored_state()
    wanted = _wanted(plan.data, stored)
    changes = diff(stored, wanted, management=_management())
    # A service refusing what the checks let through still ends in nothing written.
    with problem_at("", "The import stopped"):
        secrets = _apply(actor=actor, stored=stored, wanted=wanted)
    return ImportResult(changes=changes, secrets=secrets)


def _apply(*, actor: User | None, stored: ConfigState, wanted: ConfigState) -> dict[str, str]:
    for group in Group.objects.filter(name__in=stored.groups.keys() - wanted.groups.keys()):
        services.group_delete(actor=actor, group=group)
    for role in Role.objects.filter(name__in=stored.roles.keys() - wanted.roles.keys()):
        services.role_delete(actor=actor, role=role)
    remove_apps(actor=actor, stored=stored, wanted=wanted)
    apply_apis(actor=actor, stored=stored, wanted=wanted)
    secrets = apply_applications(actor=actor, stored=stored, wanted=wanted)

    emails = set().union(
        *(role.users for role in (*stored.roles.values(), *wanted.roles.values())),
        *(group.members for group in (*stored.groups.values(), *wanted.groups.values())),
    )
    users = {user.email: user for user in User.objects.filter(email__in=emails)}
    scopes = {(scope.api.identifier, scope.value): scope for scope in Scope.objects.select_related("api")}
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
    return secrets


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
