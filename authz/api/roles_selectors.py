"""Reads for the Management API's roles and groups: who holds a role or a permission, and by
which route; who is in a group, and through which nested groups.

``authz.selectors.holders_of_roles`` answers the same question for the dashboard in words
("role Approver via group Managers (through Team A)"); a program wants the route as data:
the role, and the chain of groups from the person's own group out to the group holding it.
The same tables are walked the same way, in a fixed number of queries however deep groups
are nested, and ``tests/management/test_roles_holders.py`` checks that both find the same
people.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from apis.models import Scope
from authz.models import Group, GroupNesting, Role
from authz.selectors import GroupMember, GroupRole, RoleUser


@dataclass(frozen=True)
class Route:
    """How a person holds ``role``: directly when ``groups`` is empty, else through these
    groups, from the one they are a member of out to the one the role is given to (the
    shortest chain between those two, as the dashboard's selectors find it)."""

    role: str
    groups: tuple[str, ...] = ()


def _group_chains(group_id: int, children: dict[int, list[int]], names: dict[int, str]) -> dict:
    """``{group: chain}`` for ``group_id`` and every group inside it, each chain from
    ``group_id`` inwards."""
    chains: dict[int, tuple[str, ...]] = {group_id: (names[group_id],)}
    queue = deque([group_id])
    while queue:
        current = queue.popleft()
        for child in children[current]:
            if child not in chains:
                chains[child] = (*chains[current], names[child])
                queue.append(child)
    return chains


def _nesting() -> tuple[dict[int, list[int]], dict[int, str]]:
    """The nesting edges (parent to children) and every group's name: two queries."""
    children: dict[int, list[int]] = defaultdict(list)
    for parent, child in GroupNesting.objects.values_list("parent_id", "child_id"):
        children[parent].append(child)
    return children, dict(Group.objects.values_list("id", "name"))


def holder_routes(role_ids: dict[int, str]) -> dict[int, list[Route]]:
    """``{user id: routes}`` for everyone holding any of the roles ``{id: name}``.

    Five queries, whatever the nesting depth.
    """
    routes: dict[int, set[Route]] = defaultdict(set)
    for user_id, role_id in RoleUser.objects.filter(role_id__in=role_ids).values_list("user_id", "role_id"):
        routes[user_id].add(Route(role_ids[role_id]))
    children, names = _nesting()
    # The groups whose members hold a role, each with the chains that lead to it.
    by_group: dict[int, list[Route]] = defaultdict(list)
    for group_id, role_id in GroupRole.objects.filter(role_id__in=role_ids).values_list(
        "group_id", "role_id"
    ):
        for member_group, chain in _group_chains(group_id, children, names).items():
            by_group[member_group].append(Route(role_ids[role_id], tuple(reversed(chain))))
    for group_id, user_id in GroupMember.objects.filter(group_id__in=by_group).values_list(
        "group_id", "user_id"
    ):
        routes[user_id].update(by_group[group_id])
    return {
        user_id: sorted(found, key=lambda route: (route.role, len(route.groups), route.groups))
        for user_id, found in routes.items()
    }


def group_member_chains(group: Group) -> dict[int, list[tuple[str, ...]]]:
    """``{user id: chains}`` for everyone in ``group``, as a member of it or of a group nested
    in it at any depth; one chain per group they are in directly (the shortest, as the
    dashboard's selectors find it), from that group out to ``group``.

    Three queries, whatever the nesting depth.
    """
    children, names = _nesting()
    chains = {
        member_group: tuple(reversed(chain))
        for member_group, chain in _group_chains(group.pk, children, names).items()
    }
    found: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    for group_id, user_id in GroupMember.objects.filter(group_id__in=chains).values_list(
        "group_id", "user_id"
    ):
        found[user_id].append(chains[group_id])
    return {user_id: sorted(paths, key=lambda path: (len(path), path)) for user_id, paths in found.items()}


def holders(routes: dict[int, Any]) -> QuerySet[User]:
    """The people of ``routes``, as a queryset to page through."""
    return User.objects.filter(pk__in=list(routes))


def role_holder_routes(role: Role) -> dict[int, list[Route]]:
    return holder_routes({role.pk: role.name})


def permission_holder_routes(scope: Scope) -> dict[int, list[Route]]:
    """Who holds ``scope`` (an API's permission), as ``authz.selectors.who_has_permission``."""
    return holder_routes(dict(Role.objects.filter(permissions=scope).values_list("id", "name")))


def permission_find(*, resource_server_identifier: str, permission_name: str) -> Scope:
    """The permission ``permission_name`` of the API ``resource_server_identifier``
    (Scope.DoesNotExist otherwise)."""
    return Scope.objects.select_related("api").get(
        api__identifier=resource_server_identifier, value=permission_name
    )
