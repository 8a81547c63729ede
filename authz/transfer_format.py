"""The file format of an authorization export: the configuration named as people see it.

``ConfigState`` holds roles, groups and rules by name (API identifiers and scope values,
user emails), never by database ids. ``config_as_json`` writes it; ``read_config`` reads a
loaded file back into one, checking it as a whole and reporting every problem at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings

from accounts.models import User
from apis.models import Scope

from .models import Role

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


def config_as_json(state: ConfigState) -> dict[str, Any]:
    """``state`` as the JSON-ready data of an export file, sorted so that exports diff well."""
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


def read_config(data: dict[str, Any]) -> tuple[ConfigState, list[str]]:
    """The configuration a loaded file asks for, and every problem found in it (none when valid)."""
    return _Reader(data).read()


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
