"""Reading a configuration file: every problem found at once, each with where it is.

``read_config`` turns a loaded file into a ``ConfigState`` and a list of ``Problem``s (none
when it is valid). The sections are read in the order that lets later ones refer to
earlier ones: APIs, applications and client grants (``transfer_read_apps``), then roles,
groups, assignments and rules. A reference to an API or scope must be to one in the file,
or to the system API (``@management``), which is not part of a file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from accounts.models import User
from apis.models import Api, Scope

from .models import Role
from .transfer_format import (
    FORMAT_VERSION,
    MANAGEMENT,
    READABLE_VERSIONS,
    ConfigState,
    GroupSpec,
    Permission,
    Problem,
    RoleSpec,
    RuleSpec,
)
from .transfer_read_apps import read_apis, read_applications, read_grants

SECTIONS_V1 = ("roles", "groups", "role_assignments", "rules")
SECTIONS = ("apis", "applications", "client_grants", *SECTIONS_V1)
# Both are CharFields, which always have a max_length.
NAME_MAX_LENGTH = cast(int, Role._meta.get_field("name").max_length)
DESCRIPTION_MAX_LENGTH = cast(int, Role._meta.get_field("description").max_length)
POSITION_MAX = 2_147_483_647  # PositiveIntegerField's ceiling on every database we run on
# Fields a person might add hoping to set a secret: refused by name, so that nobody believes
# a secret was imported (a created application gets a fresh one; an existing one keeps its own).
SECRET_FIELDS = frozenset({"client_secret", "secret", "hs256_secret", "private_key", "private_key_pem"})


def read_config(data: dict[str, Any]) -> tuple[ConfigState, list[Problem]]:
    """The configuration a loaded file asks for, and every problem found in it (none when valid)."""
    return Reader(data).read()


def system_api() -> Api | None:
    """The server's own management API (created by a migration), if there is one."""
    return Api.objects.filter(system=True).first()


class Reader:
    """Reads a file's data into a ConfigState, collecting every problem instead of stopping."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self.problems: list[Problem] = []
        self.state = ConfigState()
        management = system_api()
        self.management = management.identifier if management else None
        # (API identifier, scope value) pairs a role or grant may name; filled by read_apis.
        self.scopes: set[Permission] = set()
        self.identifiers: set[str] = set()
        self.emails: dict[str, tuple[str, str]] = {}  # email → (path, label) of its first use

    def read(self) -> tuple[ConfigState, list[Problem]]:
        version = self.data.get("version")
        self.state.partial = version == 1
        sections = SECTIONS_V1 if self.state.partial else SECTIONS
        self.keys(self.data, ("version", *sections), "", "The file")
        if version not in READABLE_VERSIONS or isinstance(version, bool):
            self.error("version", f"“version” must be {FORMAT_VERSION}.")
        missing = [section for section in sections if section not in self.data]
        if missing:
            self.error("", f"The file has no {', '.join(f'“{section}”' for section in missing)}.")
        if self.state.partial:
            # APIs stay as stored: roles may name any scope there is.
            self.scopes = set(Scope.objects.values_list("api__identifier", "value"))
            self.identifiers = set(Api.objects.values_list("identifier", flat=True))
        else:
            if self.management:
                self.identifiers.add(self.management)
                self.scopes |= {
                    (self.management, value)
                    for value in Scope.objects.filter(api__system=True).values_list("value", flat=True)
                }
            read_apis(self)
            read_applications(self)
            read_grants(self)
        self.read_roles()
        self.read_groups()
        self.read_assignments()
        self.check_users()
        self.read_rules()
        return self.state, self.problems

    # Sections.

    def read_roles(self) -> None:
        for where, entry in self.objects("roles"):
            self.keys(entry, ("name", "description", "permissions"), where)
            name = self.name(entry, where)
            label = f"Role “{name}”" if name else where
            description = self.description(entry, where, label)
            pairs = entry.get("permissions", [])
            if not isinstance(pairs, list):
                self.error(
                    f"{where}.permissions",
                    f"{label}: “permissions” must be a list of [API identifier, scope] pairs.",
                )
                pairs = []
            permissions = set()
            for index, pair in enumerate(pairs):
                path = f"{where}.permissions[{index}]"
                if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                    self.error(
                        path, f"{label}: a permission must be an [API identifier, scope] pair, not {pair!r}."
                    )
                    continue
                permission = self.scope(pair[0], pair[1], path, label)
                if permission is not None:
                    permissions.add(permission)
            if name is None:
                continue
            if name in self.state.roles:
                self.error(where, f"Role “{name}” appears more than once.")
                continue
            self.state.roles[name] = RoleSpec(description=description, permissions=frozenset(permissions))
            self.state.paths[("role", name)] = where

    def read_groups(self) -> None:
        groups = self.state.groups
        for where, entry in self.objects("groups"):
            self.keys(entry, ("name", "description", "members", "roles", "subgroups"), where)
            name = self.name(entry, where)
            label = f"Group “{name}”" if name else where
            description = self.description(entry, where, label)
            members = self.users(entry.get("members", []), f"{where}.members", label)
            roles = frozenset(self.strings(entry.get("roles", []), f"{where}.roles", label))
            for role in sorted(roles - self.state.roles.keys()):
                self.error(f"{where}.roles", f"{label}: there is no role “{role}” in the file.")
            subgroups = frozenset(self.strings(entry.get("subgroups", []), f"{where}.subgroups", label))
            if name is None:
                continue
            if name in groups:
                self.error(where, f"Group “{name}” appears more than once.")
                continue
            if name in subgroups:
                self.error(f"{where}.subgroups", f"{label} cannot contain itself.")
                subgroups -= {name}
            groups[name] = GroupSpec(description, members, roles & self.state.roles.keys(), subgroups)
            self.state.paths[("group", name)] = where
        for name, group in groups.items():
            for child in sorted(group.subgroups - groups.keys()):
                path = f"{self.state.paths[('group', name)]}.subgroups"
                self.error(path, f"Group “{name}”: there is no group “{child}” in the file.")
        for cycle in _cycles({name: group.subgroups & groups.keys() for name, group in groups.items()}):
            path = f"{self.state.paths[('group', cycle[0])]}.subgroups"
            self.error(path, f"Groups cannot nest in a cycle: {' → '.join(cycle)}.")

    def read_assignments(self) -> None:
        assignments = self.data.get("role_assignments", {})
        if not isinstance(assignments, dict):
            self.error(
                "role_assignments", "“role_assignments” must be an object mapping role names to emails."
            )
            return
        for name, emails in assignments.items():
            where = f"role_assignments.{name}"
            label = f"Assignments of role “{name}”"
            users = self.users(emails, where, label)
            role = self.state.roles.get(name)
            if role is None:
                self.error(where, f"{label}: there is no role “{name}” in the file.")
            else:
                self.state.roles[name] = RoleSpec(role.description, role.permissions, users)

    def check_users(self) -> None:
        found = set(User.objects.filter(email__in=list(self.emails)).values_list("email", flat=True))
        for email, (path, label) in self.emails.items():
            if email not in found:
                self.error(path, f"{label}: no user has the email {email}.")

    def read_rules(self) -> None:
        registered = set(settings.AUTHZ_RULES)
        for where, entry in self.objects("rules"):
            self.keys(entry, ("path", "enabled", "position"), where)
            path, enabled, position = entry.get("path"), entry.get("enabled"), entry.get("position")
            if not isinstance(path, str) or path not in registered:
                self.error(
                    f"{where}.path", f"{where}: {path!r} is not a rule registered in settings.AUTHZ_RULES."
                )
                continue
            if not isinstance(enabled, bool):
                self.error(f"{where}.enabled", f"Rule {path}: “enabled” must be true or false.")
            if (
                isinstance(position, bool)
                or not isinstance(position, int)
                or not 0 <= position <= POSITION_MAX
            ):
                self.error(f"{where}.position", f"Rule {path}: “position” must be a whole number, 0 or more.")
                continue
            if path in self.state.rules:
                self.error(where, f"Rule {path} appears more than once.")
                continue
            self.state.rules[path] = RuleSpec(enabled=bool(enabled), position=position)

    # References and values, shared with transfer_read_apps.

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def api(self, value: str, path: str, label: str) -> str | None:
        """The identifier an API reference names (``@management``: the system API), or None."""
        identifier = self.management if value == MANAGEMENT else value
        if identifier is None or identifier not in self.identifiers:
            self.error(path, f"{label}: there is no API with the identifier {value}.")
            return None
        return identifier

    def scope(self, api: str, value: str, path: str, label: str) -> Permission | None:
        identifier = self.api(api, path, label)
        if identifier is not None and (identifier, value) not in self.scopes:
            self.error(path, f"{label}: the API {api} has no scope “{value}”.")
            return None
        return None if identifier is None else (identifier, value)

    def keys(self, entry: dict, allowed: Iterable[str], where: str, label: str | None = None) -> None:
        for key in sorted(set(entry) - set(allowed)):
            path = f"{where}.{key}" if where else key
            if key in SECRET_FIELDS:
                self.error(path, f"{label or where}: “{key}”: secrets are never imported or exported.")
            else:
                self.error(path, f"{label or where}: unknown field “{key}”.")

    def objects(self, section: str) -> list[tuple[str, dict]]:
        """The objects of a top-level list, each with its path."""
        if section not in self.data:
            return []  # reported once, as missing
        return self.items(self.data[section], section)

    def items(self, value: Any, where: str) -> list[tuple[str, dict]]:
        if not isinstance(value, list):
            self.error(where, f"“{where}” must be a list.")
            return []
        entries = []
        for index, entry in enumerate(value):
            if isinstance(entry, dict):
                entries.append((f"{where}[{index}]", entry))
            else:
                self.error(f"{where}[{index}]", f"{where}[{index}] must be an object.")
        return entries

    def name(self, entry: dict, where: str) -> str | None:
        value = entry.get("name")
        if not isinstance(value, str) or not value.strip():
            self.error(f"{where}.name", f"{where}: “name” must be a non-empty string.")
            return None
        value = value.strip()
        if len(value) > NAME_MAX_LENGTH:
            self.error(
                f"{where}.name",
                f"{where}: the name “{value[:40]}…” is longer than {NAME_MAX_LENGTH} characters.",
            )
            return None
        return value

    def description(self, entry: dict, where: str, label: str) -> str:
        value = entry.get("description", "")
        if not isinstance(value, str):
            self.error(f"{where}.description", f"{label}: “description” must be a string.")
            return ""
        value = value.strip()
        if len(value) > DESCRIPTION_MAX_LENGTH:
            self.error(
                f"{where}.description",
                f"{label}: the description is longer than {DESCRIPTION_MAX_LENGTH} characters.",
            )
        return value

    def strings(self, value: Any, path: str, label: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.error(path, f"{label}: “{path.rpartition('.')[2]}” must be a list of strings.")
            return []
        return [item.strip() for item in value]

    def users(self, value: Any, path: str, label: str) -> frozenset[str]:
        # Emails are stored lower-cased (accounts.UserManager).
        emails = frozenset(email.lower() for email in self.strings(value, path, label))
        for email in sorted(emails):
            self.emails.setdefault(email, (path, label))
        return emails

    def field_values(
        self, model: type[models.Model], names: Iterable[str], entry: dict, where: str, label: str
    ) -> tuple[dict[str, Any], list[str]]:
        """The model fields ``names`` from ``entry`` (the model's default when absent), each
        of its field's JSON type, and the names that were not (to leave out of full_clean)."""
        values: dict[str, Any] = {}
        bad: list[str] = []
        for name in names:
            model_field = cast(models.Field, model._meta.get_field(name))
            value = entry.get(name, model_field.get_default())
            if isinstance(model_field, models.BooleanField):
                valid, kind = isinstance(value, bool), "true or false"
            elif isinstance(model_field, models.IntegerField):
                valid, kind = isinstance(value, int) and not isinstance(value, bool), "a whole number"
            elif isinstance(model_field, models.JSONField):
                valid, kind = value is None or isinstance(value, dict), "an object or null"
            else:
                valid, kind = isinstance(value, str), "a string"
                value = value.strip() if isinstance(value, str) else value
            if (
                valid
                and isinstance(model_field, models.TextField)
                and len(value) > (model_field.max_length or len(value))
            ):
                # The model leaves a text's length to its form (the dashboard's): checked as it does.
                self.error(
                    f"{where}.{name}",
                    f"{label}: “{name}” is longer than {model_field.max_length} characters.",
                )
                bad.append(name)
            elif valid:
                values[name] = value
            else:
                self.error(f"{where}.{name}", f"{label}: “{name}” must be {kind}.")
                bad.append(name)
        return values, bad

    def full_clean(
        self,
        instance: models.Model,
        where: str,
        label: str,
        *,
        exclude: Iterable[str],
        rename: dict[str, str] | None = None,
        skip: Iterable[str] = (),
    ) -> None:
        """The model's own validation, as the services run it, reported at the file's field."""
        try:
            instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                if name in skip:
                    continue
                key = (rename or {}).get(name, name)
                path = where if name == NON_FIELD_ERRORS else f"{where}.{key}"
                for message in messages:
                    self.error(
                        path,
                        f"{label}: {message}" if name == NON_FIELD_ERRORS else f"{label}: “{key}”: {message}",
                    )


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
