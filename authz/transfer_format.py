"""The file format of a configuration export: everything named as people see it.

``ConfigState`` holds APIs (by identifier, with their scopes and settings), applications
(by client id, never their secrets), client grants, roles, groups and rules (by name,
user emails), never database ids. ``config_as_json`` writes it; ``transfer_read`` reads a
loaded file back into one. The system API (the server's own management API) is not part
of a file; a reference to it is written ``@management``, so that a file moves between
environments whose issuers differ.

Version 2 added ``apis``, ``applications`` and ``client_grants``. A version 1 file (roles,
groups and rules only) is still read: it leaves APIs and applications as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MANAGEMENT = "@management"  # the system API, whatever its identifier in this environment

# The settings of an API in a file, after its identifier (api_update's fields).
API_FIELDS = (
    "name",
    "signing_algorithm",
    "token_lifetime",
    "allow_offline_access",
    "rbac_enabled",
    "add_permissions_claim",
    "allow_skip_consent",
)
# An application's single-valued settings in a file, after client_id and app_type (the
# type decides public or confidential and the grant types, so they are not repeated).
CLIENT_FIELDS = (
    "name",
    "description",
    "logo_uri",
    "token_endpoint_auth_method",
    "jwks",
    "jwks_uri",
    "first_party",
    "require_mfa",
    "require_par",
    "require_dpop",
    "rotate_refresh_token",
    "refresh_token_absolute_lifetime",
    "refresh_token_idle_lifetime",
    "logout_revokes_refresh_tokens",
    "backchannel_logout_uri",
    "backchannel_logout_session_required",
    "device_code_enabled",
)
# Its lists of URLs: the file's name for each, and the model field holding it.
CLIENT_LISTS = {
    "callbacks": "redirect_uris",
    "logout_urls": "post_logout_redirect_uris",
    "allowed_origins": "allowed_origins",
}

Permission = tuple[str, str]  # (API identifier, scope value)
GrantKey = tuple[str, str]  # (client id, API identifier)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where it is (``applications[2].callbacks[0]``), and what."""

    path: str
    message: str


class ConfigInvalid(ValidationError):
    """A file that cannot be imported, with every problem; ``messages`` lists their texts."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__([problem.message for problem in problems])
        self.problems = problems


@contextmanager
def problem_at(path: str, label: str) -> Iterator[None]:
    """Report a service's refusal while applying as a problem of the file, at ``path``."""
    try:
        yield
    except ConfigInvalid:
        raise
    except ValidationError as error:
        raise ConfigInvalid([Problem(path, f"{label}: {message}") for message in error.messages]) from error


@dataclass(frozen=True)
class ApiSpec:
    settings: dict[str, Any]  # API_FIELDS → value
    scopes: dict[str, str]  # value → description


@dataclass(frozen=True)
class ClientSpec:
    app_type: str
    settings: dict[str, Any]  # CLIENT_FIELDS → value
    lists: dict[str, frozenset[str]]  # CLIENT_LISTS keys → URLs
    may_introspect: frozenset[str] = frozenset()  # API identifiers


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
    """A configuration, keyed by names: what is stored, or what a file asks for.

    ``partial`` (a version 1 file) leaves APIs, applications and client grants as stored.
    ``paths`` says where each entity came from in the file, for problems found on apply.
    """

    apis: dict[str, ApiSpec] = field(default_factory=dict)
    applications: dict[str, ClientSpec] = field(default_factory=dict)
    grants: dict[GrantKey, frozenset[str]] = field(default_factory=dict)
    roles: dict[str, RoleSpec] = field(default_factory=dict)
    groups: dict[str, GroupSpec] = field(default_factory=dict)
    rules: dict[str, RuleSpec] = field(default_factory=dict)  # in run order
    partial: bool = False
    paths: dict[tuple[str, str], str] = field(default_factory=dict, compare=False)


def config_as_json(state: ConfigState, *, management: str | None) -> dict[str, Any]:
    """``state`` as the JSON-ready data of an export file, sorted so that exports diff well.

    ``management`` is the system API's identifier here: references to it become ``@management``.
    """

    def api(identifier: str) -> str:
        return MANAGEMENT if identifier == management else identifier

    return {
        "version": FORMAT_VERSION,
        "apis": [
            {
                "identifier": identifier,
                **{name: spec.settings[name] for name in API_FIELDS},
                "scopes": [
                    {"value": value, "description": spec.scopes[value]} for value in sorted(spec.scopes)
                ],
            }
            for identifier, spec in sorted(state.apis.items())
        ],
        "applications": [
            _application_json(client_id, spec, api) for client_id, spec in sorted(state.applications.items())
        ],
        "client_grants": sorted(
            (
                {"client_id": client_id, "api": api(identifier), "scopes": sorted(scopes)}
                for (client_id, identifier), scopes in state.grants.items()
            ),
            key=lambda grant: (grant["client_id"], grant["api"]),
        ),
        "roles": [
            {
                "name": name,
                "description": role.description,
                "permissions": sorted([api(identifier), value] for identifier, value in role.permissions),
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


def _application_json(client_id: str, spec: ClientSpec, api: Callable[[str], str]) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "app_type": spec.app_type,
        **{name: spec.settings[name] for name in CLIENT_FIELDS},
        **{name: sorted(spec.lists[name]) for name in CLIENT_LISTS},
        "may_introspect": sorted(api(identifier) for identifier in spec.may_introspect),
    }
