"""Reads for authorization: who holds which permission, and why.

Every answer here costs a fixed number of queries, however deep groups are nested: the
nesting edges are loaded once and walked in Python (an organization has hundreds of groups,
not millions).
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.db.models import Count, QuerySet
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model

from accounts.models import User
from accounts.versions import CONFIGURATION, PERMISSIONS, VersionedCache
from apis.models import Api, Scope
from clients.models import Client

from .models import AccessTokenRecord, Consent, Group, GroupNesting, Role

RoleUser = Role.users.through
RolePermission = Role.permissions.through
GroupRole = Group.roles.through
GroupMember = Group.members.through


def _parents() -> dict[int, list[tuple[int, str]]]:
    parents: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for child, parent, name in GroupNesting.objects.values_list("child_id", "parent_id", "parent__name"):
        parents[child].append((parent, name))
    return parents


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for parent, child in GroupNesting.objects.values_list("parent_id", "child_id"):
        children[parent].append(child)
    return children


def group_descendants(group_id: int) -> set[int]:
    """Every group nested inside ``group_id``, at any depth (itself excluded)."""
    children = _children()
    seen: set[int] = set()
    queue = deque(children[group_id])
    while queue:
        current = queue.popleft()
        if current not in seen:
            seen.add(current)
            queue.extend(children[current])
    return seen


def user_group_paths(user: User) -> dict[int, tuple[str, ...]]:
    """Every group ``user`` belongs to, with the chain of names that leads there.

    A direct group maps to ``("Managers",)``; a group it is nested in maps to
    ``("Managers", "All Staff")``. Two queries.
    """
    paths: dict[int, tuple[str, ...]] = {
        group_id: (name,)
        for group_id, name in GroupMember.objects.filter(user=user).values_list("group_id", "group__name")
    }
    parents = _parents()
    queue = deque(paths)
    while queue:
        current = queue.popleft()
        for parent, name in parents[current]:
            if parent not in paths:
                paths[parent] = (*paths[current], name)
                queue.append(parent)
    return paths


def _via(path: tuple[str, ...]) -> str:
    if len(path) == 1:
        return f"group {path[0]}"
    return f"group {path[-1]} (through {' → '.join(path[:-1])})"


@dataclass(frozen=True)
class HeldPermission:
    api: str
    scope: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _Holdings:
    """The groups a user is in (``paths``, see ``user_group_paths``) and the roles they hold:
    ``names`` maps a role's id to its name, ``routes`` to the group chains it comes
    through, ``()`` standing for "assigned directly"."""

    paths: dict[int, tuple[str, ...]]
    names: dict[int, str]
    routes: dict[int, list[tuple[str, ...]]]

    def reasons(self, role_id: int) -> list[str]:
        name = self.names[role_id]
        return [
            f"role {name} via {_via(chain)}" if chain else f"role {name}" for chain in self.routes[role_id]
        ]


def _holdings(user: User) -> _Holdings:
    """Four queries, whatever the nesting depth."""
    paths = user_group_paths(user)
    names: dict[int, str] = {}
    routes: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    for role_id, name in RoleUser.objects.filter(user=user).values_list("role_id", "role__name"):
        names[role_id] = name
        routes[role_id].append(())
    for group_id, role_id, name in GroupRole.objects.filter(group_id__in=paths).values_list(
        "group_id", "role_id", "role__name"
    ):
        names[role_id] = name
        routes[role_id].append(paths[group_id])
    return _Holdings(paths, names, routes)


def user_permissions(user: User, *, api: Api | None = None) -> list[HeldPermission]:
    """The user's effective permissions (for one API or all), each with why it is held.

    Five queries, whatever the nesting depth.
    """
    holdings = _holdings(user)
    grants = RolePermission.objects.filter(role_id__in=holdings.routes)
    if api is not None:
        grants = grants.filter(scope__api=api)
    reasons: dict[tuple[str, str], set[str]] = defaultdict(set)
    for role_id, identifier, value in grants.values_list("role_id", "scope__api__identifier", "scope__value"):
        reasons[(identifier, value)].update(holdings.reasons(role_id))
    return [
        HeldPermission(identifier, value, tuple(sorted(why)))
        for (identifier, value), why in sorted(reasons.items())
    ]


def user_permission_values(user: User, api: Api) -> dict[str, tuple[str, ...]]:
    """``{scope value: reasons}`` for one API: what the token policy consults (a copy of
    ``user_entitlements``, so no query while the person's permissions are unchanged)."""
    return dict(user_entitlements(user).permissions.get(api.pk, {}))


def user_roles(user: User) -> list[tuple[Role, tuple[str, ...]]]:
    """The roles a user holds, directly or through groups, with how."""
    how = {
        role_id: tuple(f"via {_via(chain)}" if chain else "assigned directly" for chain in chains)
        for role_id, chains in _holdings(user).routes.items()
    }
    return [(role, how[role.pk]) for role in Role.objects.filter(pk__in=how).order_by("name")]


# --- What a token carries, kept between requests ------------------------------------------------


@dataclass(frozen=True)
class Entitlements:
    """A person's roles, groups and permissions as plain data (never model instances), which
    a process keeps between requests and hands to every request: do not mutate it.

    ``permissions`` maps an API's id to ``{scope value: reasons}``; ``roles`` and ``groups``
    (nested ones included) are sorted names.
    """

    permissions: dict[int, dict[str, tuple[str, ...]]]
    roles: tuple[str, ...]
    groups: tuple[str, ...]


# Dropped in every process at once when any role, group, nesting, membership or role
# permission changes (PERMISSIONS), or any API or scope (CONFIGURATION): deleting a scope
# removes it from its roles without a signal of their own.
_entitlements: VersionedCache[tuple[int, UUID], Entitlements] = VersionedCache(
    "person entitlements", PERMISSIONS, also=(CONFIGURATION,), max_entries=4096
)


def user_entitlements(user: User) -> Entitlements:
    """What the token policy, the ``permissions`` claim and the roles-and-groups rule read.

    Five queries the first time, none while nothing it depends on changed. Keyed by ``sub``
    as well as the id, so that a deleted person's entry can never serve a new one.
    """
    return _entitlements.get_or_load((user.pk, user.sub), lambda: _load_entitlements(user))


def _load_entitlements(user: User) -> Entitlements:
    holdings = _holdings(user)
    reasons: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    grants = RolePermission.objects.filter(role_id__in=holdings.routes)
    for role_id, api_id, value in grants.values_list("role_id", "scope__api_id", "scope__value"):
        reasons[api_id][value].update(holdings.reasons(role_id))
    return Entitlements(
        permissions={
            api_id: {value: tuple(sorted(why)) for value, why in sorted(scopes.items())}
            for api_id, scopes in reasons.items()
        },
        roles=tuple(sorted(holdings.names.values())),
        groups=tuple(sorted({path[-1] for path in holdings.paths.values()})),
    )


@dataclass(frozen=True)
class Holder:
    user: User
    reasons: tuple[str, ...]


def holders_of_roles(role_ids: dict[int, str]) -> list[Holder]:
    """Everyone who holds any of the roles ``{id: name}``, directly or through groups."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for user_id, role_id in RoleUser.objects.filter(role_id__in=role_ids).values_list("user_id", "role_id"):
        reasons[user_id].append(f"role {role_ids[role_id]}")
    children = _children()
    names = dict(Group.objects.values_list("id", "name"))
    # For each group holding a role: its own members and those of every group inside it.
    routes: dict[int, list[tuple[int, tuple[str, ...]]]] = defaultdict(list)
    for group_id, role_id in GroupRole.objects.filter(role_id__in=role_ids).values_list(
        "group_id", "role_id"
    ):
        chains: dict[int, tuple[str, ...]] = {group_id: (names[group_id],)}
        queue = deque([group_id])
        while queue:
            current = queue.popleft()
            for child in children[current]:
                if child not in chains:
                    chains[child] = (*chains[current], names[child])
                    queue.append(child)
        for member_group, chain in chains.items():
            routes[member_group].append((role_id, tuple(reversed(chain))))
    for group_id, user_id in GroupMember.objects.filter(group_id__in=routes).values_list(
        "group_id", "user_id"
    ):
        for role_id, chain in routes[group_id]:
            reasons[user_id].append(f"role {role_ids[role_id]} via {_via(chain)}")
    users = User.objects.in_bulk(list(reasons))
    return sorted(
        (Holder(users[user_id], tuple(sorted(set(why)))) for user_id, why in reasons.items()),
        key=lambda holder: holder.user.email,
    )


def who_has_permission(scope: Scope) -> list[Holder]:
    """Every user holding ``scope`` and through what (role, group chain)."""
    roles = dict(Role.objects.filter(permissions=scope).values_list("id", "name"))
    return holders_of_roles(roles)


def role_list() -> QuerySet[Role]:
    return Role.objects.prefetch_related("permissions__api").order_by("name")


def group_list() -> QuerySet[Group]:
    return Group.objects.prefetch_related("roles", "subgroups").order_by("name")


def role_overview() -> QuerySet[Role]:
    """Roles for the dashboard's list, with how many permissions, users and groups each has."""
    return role_list().annotate(
        permission_count=Count("permissions", distinct=True),
        user_count=Count("users", distinct=True),
        group_count=Count("groups", distinct=True),
    )


def group_overview() -> QuerySet[Group]:
    """Groups for the dashboard's list, with how many members, roles and subgroups each has."""
    return group_list().annotate(
        member_count=Count("members", distinct=True),
        role_count=Count("roles", distinct=True),
        subgroup_count=Count("subgroups", distinct=True),
    )


# --- A person's page in the dashboard ---------------------------------------------------------


@dataclass(frozen=True)
class GroupMembership:
    group: Group
    chain: tuple[str, ...]  # from the group the user is in directly, out to ``group``

    @property
    def direct(self) -> bool:
        return len(self.chain) == 1


@dataclass(frozen=True)
class ApiPermissions:
    api_identifier: str
    api: Api | None  # None when the API was deleted but a role still names its scope
    permissions: list[HeldPermission]


def user_groups(user: User) -> list[GroupMembership]:
    """Direct groups first, then the groups they are nested in, each with its chain."""
    paths = user_group_paths(user)
    groups = Group.objects.in_bulk(list(paths))
    memberships = [GroupMembership(groups[pk], path) for pk, path in paths.items() if pk in groups]
    return sorted(memberships, key=lambda item: (not item.direct, item.group.name))


def user_permissions_by_api(user: User) -> list[ApiPermissions]:
    """The user's effective permissions, grouped by the API they belong to."""
    by_api: dict[str, list[HeldPermission]] = defaultdict(list)
    for held in user_permissions(user):
        by_api[held.api].append(held)
    apis = Api.objects.in_bulk(list(by_api), field_name="identifier")
    return [ApiPermissions(identifier, apis.get(identifier), held) for identifier, held in by_api.items()]


def user_consents(user: User) -> QuerySet[Consent]:
    return Consent.objects.filter(user=user).select_related("client").order_by("client__name", "-created_at")


def user_refresh_tokens(user: User) -> list[Any]:
    """Live refresh tokens, each with ``idle_expires``: not revoked and not idle past their
    application's limit."""
    now = timezone.now()
    tokens = (
        get_refresh_token_model()
        .objects.filter(user=user, revoked__isnull=True)
        .select_related("application")
        .order_by("application__name", "application_id", "-created")
    )
    live = []
    for token in tokens:
        token.idle_expires = token.created + timedelta(seconds=token.application.refresh_token_idle_lifetime)
        if token.idle_expires > now:
            live.append(token)
    return live


def user_signed_in_apps(user: User) -> list[tuple[Client, list[Any]]]:
    """The applications holding live refresh tokens for ``user`` (signed in there until they
    sign out), each with its tokens, by name."""
    apps: dict[int, tuple[Client, list[Any]]] = {}
    for token in user_refresh_tokens(user):
        apps.setdefault(token.application_id, (token.application, []))[1].append(token)
    return list(apps.values())


def user_client_grant_ids(user: User, client: Client) -> set[UUID]:
    """The grants ``client`` holds for ``user`` through access tokens not yet expired.

    A grant without offline access has no refresh token: its access tokens are all that is
    left of it, and they say which grant they belong to.
    """
    records = AccessTokenRecord.objects.filter(
        access_token__user=user, access_token__application=client, access_token__expires__gt=timezone.now()
    )
    return set(records.values_list("grant_id", flat=True))
