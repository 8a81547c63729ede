"""Export and import of the authorization configuration: roles, groups, assignments, rules.

An export is plain JSON that names everything by what people see (role and group names,
API identifiers and scope values, user emails), never by database ids, so a file moves
between environments. An import makes the configuration match the file: roles and groups
that the file does not name are removed. It is planned first (validated as a whole, with
every problem reported at once, and compared with what is stored), then applied in one
transaction through the audited services.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from apis.models import Scope

from . import services
from .models import Group, GroupNesting, Role
from .rules import registered_rules

FORMAT_VERSION = 1
SECTIONS = ("roles", "groups", "role_assignments", "rules")
# Both are CharFields, which always have a max_length.
NAME_MAX_LENGTH = cast(int, Role._meta.get_field("name").max_length)
DESCRIPTION_MAX_LENGTH = cast(int, Role._meta.get_field("description").max_length)
POSITION_MAX = 2_147_483_647  # PositiveIntegerField's ceiling on every database we run on

Permission = tuple[str, str]  # (API identifier, scope value)


@dataclass(frozen=True)
class RoleSpec:
    description: str = ""
    permissions: frozenset[Permission] = frozenset()
    users: frozenset[str] = frozenset()  # emails of the users it is assigned to directly


@dataclass(frozen=True)
class GroupSpec:
    description: str = ""
    members: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    subgroups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RuleSpec:
    enabled: bool
    position: int


@dataclass
class ConfigState:
    """An authorization configuration, keyed by names: what is stored, or what a file asks for."""

    roles: dict[str, RoleSpec] = field(default_factory=dict)
    groups: dict[str, GroupSpec] = field(default_factory=dict)
    rules: dict[str, RuleSpec] = field(default_factory=dict)  # in run order


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


def _as_json(state: ConfigState) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "roles": [
            {
                "name": name,
                "description": role.description,
                "permissions": [list(permission) for permission in sorted(role.permissions)],
            }
            for name, role in sorted(state.roles.items())
        ],
        "groups": [
            {
                "name": name,
                "description": group.description,
                "members": sorted(group.members),
                "roles": sorted(group.roles),
                "subgroups": sorted(group.subgroups),
            }
            for name, group in sorted(state.groups.items())
        ],
        "role_assignments": {name: sorted(role.users) for name, role in sorted(state.roles.items())},
        "rules": [
            {"path": path, "enabled": rule.enabled, "position": rule.position}
            for path, rule in state.rules.items()
        ],
    }


def export_config() -> dict[str, Any]:
    """The whole authorization configuration as JSON-ready data, sorted so that exports diff well."""
    return _as_json(_stored_state())


# --- Reading a file -----------------------------------------------------------------------------


def load_config(text: str) -> dict[str, Any]:
    """Parse an uploaded file; ValidationError when it is not a JSON object."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"The file is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from error
    except RecursionError as error:
        raise ValidationError("The file is not valid JSON: it is nested too deeply.") from error
    if not isinstance(data, dict):
        raise ValidationError("The file must hold a JSON object with roles, groups, assignments and rules.")
    return data


class _Reader:
    """Reads a file's data into a ConfigState, collecting every problem instead of stopping."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self.errors: list[str] = []
        self.state = ConfigState()
        self.scopes = set(Scope.objects.values_list("api__identifier", "value"))
        self.emails: dict[str, str] = {}  # email → where it is first used, checked in one query

    def read(self) -> tuple[ConfigState, list[str]]:
        self.keys(self.data, ("version", *SECTIONS), "The file")
        if self.data.get("version") != FORMAT_VERSION:
            self.error(f"“version” must be {FORMAT_VERSION}.")
        missing = [section for section in SECTIONS if section not in self.data]
        if missing:
            self.error(f"The file has no {', '.join(f'“{section}”' for section in missing)}.")
        self.read_roles()
        self.read_groups()
        self.read_assignments()
        self.check_users()
        self.read_rules()
        return self.state, self.errors

    # Sections, in the order that lets later ones refer to earlier ones.

    def read_roles(self) -> None:
        identifiers = {identifier for identifier, _ in self.scopes}
        for where, entry in self.objects("roles"):
            self.keys(entry, ("name", "description", "permissions"), where)
            name = self.name(entry, where)
            label = f"Role “{name}”" if name else where
            description = self.description(entry, label)
            pairs = entry.get("permissions", [])
            if not isinstance(pairs, list):
                self.error(f"{label}: “permissions” must be a list of [API identifier, scope] pairs.")
                pairs = []
            permissions = set()
            for pair in pairs:
                if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                    self.error(
                        f"{label}: a permission must be an [API identifier, scope] pair, not {pair!r}."
                    )
                elif pair[0] not in identifiers:
                    self.error(f"{label}: there is no API with the identifier {pair[0]}.")
                elif tuple(pair) not in self.scopes:
                    self.error(f"{label}: the API {pair[0]} has no scope “{pair[1]}”.")
                else:
                    permissions.add((pair[0], pair[1]))
            if name is None:
                continue
            if name in self.state.roles:
                self.error(f"Role “{name}” appears more than once.")
                continue
            self.state.roles[name] = RoleSpec(description=description, permissions=frozenset(permissions))

    def read_groups(self) -> None:
        groups = self.state.groups
        for where, entry in self.objects("groups"):
            self.keys(entry, ("name", "description", "members", "roles", "subgroups"), where)
            name = self.name(entry, where)
            label = f"Group “{name}”" if name else where
            description = self.description(entry, label)
            members = self.users(entry.get("members", []), label, "members")
            roles = frozenset(self.strings(entry.get("roles", []), label, "roles"))
            for role in sorted(roles - self.state.roles.keys()):
                self.error(f"{label}: there is no role “{role}” in the file.")
            subgroups = frozenset(self.strings(entry.get("subgroups", []), label, "subgroups"))
            if name is None:
                continue
            if name in groups:
                self.error(f"Group “{name}” appears more than once.")
                continue
            if name in subgroups:
                self.error(f"{label} cannot contain itself.")
                subgroups -= {name}
            groups[name] = GroupSpec(description, members, roles & self.state.roles.keys(), subgroups)
        for name, group in groups.items():
            for child in sorted(group.subgroups - groups.keys()):
                self.error(f"Group “{name}”: there is no group “{child}” in the file.")
        for cycle in _cycles({name: group.subgroups & groups.keys() for name, group in groups.items()}):
            self.error(f"Groups cannot nest in a cycle: {' → '.join(cycle)}.")

    def read_assignments(self) -> None:
        assignments = self.data.get("role_assignments", {})
        if not isinstance(assignments, dict):
            self.error("“role_assignments” must be an object mapping role names to lists of emails.")
            return
        for name, emails in assignments.items():
            label = f"Assignments of role “{name}”"
            users = self.users(emails, label, "users")
            role = self.state.roles.get(name)
            if role is None:
                self.error(f"{label}: there is no role “{name}” in the file.")
            else:
                self.state.roles[name] = RoleSpec(role.description, role.permissions, users)

    def check_users(self) -> None:
        found = set(User.objects.filter(email__in=list(self.emails)).values_list("email", flat=True))
        for email, where in self.emails.items():
            if email not in found:
                self.error(f"{where}: no user has the email {email}.")

    def read_rules(self) -> None:
        registered = set(settings.AUTHZ_RULES)
        for where, entry in self.objects("rules"):
            self.keys(entry, ("path", "enabled", "position"), where)
            path, enabled, position = entry.get("path"), entry.get("enabled"), entry.get("position")
            if not isinstance(path, str) or path not in registered:
                self.error(f"{where}: {path!r} is not a rule registered in settings.AUTHZ_RULES.")
                continue
            if not isinstance(enabled, bool):
                self.error(f"Rule {path}: “enabled” must be true or false.")
            if (
                isinstance(position, bool)
                or not isinstance(position, int)
                or not 0 <= position <= POSITION_MAX
            ):
                self.error(f"Rule {path}: “position” must be a whole number, 0 or more.")
                continue
            if path in self.state.rules:
                self.error(f"Rule {path} appears more than once.")
                continue
            self.state.rules[path] = RuleSpec(enabled=bool(enabled), position=position)

    # Values.

    def error(self, message: str) -> None:
        self.errors.append(message)

    def keys(self, entry: dict, allowed: Iterable[str], where: str) -> None:
        unknown = sorted(set(entry) - set(allowed))
        if unknown:
            self.error(f"{where}: unknown field {', '.join(f'“{key}”' for key in unknown)}.")

    def objects(self, section: str) -> list[tuple[str, dict]]:
        if section not in self.data:
            return []  # reported once, as missing
        items = self.data[section]
        if not isinstance(items, list):
            self.error(f"“{section}” must be a list.")
            return []
        entries = []
        for index, entry in enumerate(items):
            if isinstance(entry, dict):
                entries.append((f"{section}[{index}]", entry))
            else:
                self.error(f"{section}[{index}] must be an object.")
        return entries

    def name(self, entry: dict, where: str) -> str | None:
        value = entry.get("name")
        if not isinstance(value, str) or not value.strip():
            self.error(f"{where}: “name” must be a non-empty string.")
            return None
        value = value.strip()
        if len(value) > NAME_MAX_LENGTH:
            self.error(f"{where}: the name “{value[:40]}…” is longer than {NAME_MAX_LENGTH} characters.")
            return None
        return value

    def description(self, entry: dict, where: str) -> str:
        value = entry.get("description", "")
        if not isinstance(value, str):
            self.error(f"{where}: “description” must be a string.")
            return ""
        value = value.strip()
        if len(value) > DESCRIPTION_MAX_LENGTH:
            self.error(f"{where}: the description is longer than {DESCRIPTION_MAX_LENGTH} characters.")
        return value

    def strings(self, value: Any, where: str, what: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.error(f"{where}: “{what}” must be a list of strings.")
            return []
        return [item.strip() for item in value]

    def users(self, value: Any, where: str, what: str) -> frozenset[str]:
        # Emails are stored lower-cased (accounts.UserManager).
        emails = frozenset(email.lower() for email in self.strings(value, where, what))
        for email in sorted(emails):
            self.emails.setdefault(email, where)
        return emails


def _cycles(children: dict[str, frozenset[str]]) -> list[list[str]]:
    """Every cycle in the nesting graph, each once, as ``[A, B, A]`` starting at its smallest name."""
    cycles: dict[tuple[str, ...], list[str]] = {}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        for child in sorted(children.get(name, ())):
            if child in path:
                loop = path[path.index(child) :]
                start = loop.index(min(loop))
                loop = loop[start:] + loop[:start]
                cycles.setdefault(tuple(loop), [*loop, loop[0]])
            elif child not in done:
                visit(child, [*path, child])
        done.add(name)

    for name in sorted(children):
        if name not in done:
            visit(name, [name])
    return list(cycles.values())


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
    wanted, errors = _Reader(data).read()
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
