"""Reads for the Management API's users: the list's filters, and a person by ``user_id``.

The list matches the dashboard's people list (``accounts.selectors``): the same statuses,
tombstones only when asked for, the same case-insensitive search of email and name. The
role and group filters are effective, as a token sees them: a role held through a group
(at any nesting depth) counts, and so does membership of a group nested in the one asked for.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from uuid import UUID

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import User
from accounts.selectors import STATUS_FILTERS

from ..models import Group, GroupNesting, Role

RoleUser = Role.users.through
GroupRole = Group.roles.through
GroupMember = Group.members.through


def _with_nested(group_ids: Iterable[int]) -> set[int]:
    """``group_ids`` and every group nested inside them, at any depth (one query)."""
    children: dict[int, list[int]] = defaultdict(list)
    for parent, child in GroupNesting.objects.values_list("parent_id", "child_id"):
        children[parent].append(child)
    seen = set(group_ids)
    queue = deque(seen)
    while queue:
        for child in children[queue.popleft()]:
            if child not in seen:
                seen.add(child)
                queue.append(child)
    return seen


def _members_of(group_ids: Iterable[int]) -> Q:
    """People in any of these groups or in a group nested inside one of them."""
    nested = _with_nested(group_ids)
    return Q(pk__in=GroupMember.objects.filter(group_id__in=nested).values("user_id"))


def user_search(
    *, search: str = "", status: str = "", role: int | None = None, group: int | None = None
) -> QuerySet[User]:
    """People for the API's list, narrowed by a case-insensitive search of email and name,
    a status (``accounts.selectors.STATUSES``; everyone but tombstones when empty), a role
    held directly or through groups, and a group one is in directly or through nesting.

    No joins on the many-to-many tables (subqueries instead), so each person is one row and
    the cursor's order stays unique.
    """
    users = User.objects.filter(STATUS_FILTERS[status]).select_related("manager")
    if search:
        users = users.filter(Q(email__icontains=search) | Q(name__icontains=search))
    if role is not None:
        through_groups = GroupRole.objects.filter(role_id=role).values_list("group_id", flat=True)
        direct = Q(pk__in=RoleUser.objects.filter(role_id=role).values("user_id"))
        users = users.filter(direct | _members_of(list(through_groups)))
    if group is not None:
        users = users.filter(_members_of([group]))
    return users


def user_by_id(user_id: UUID | str, *, queryset: QuerySet[User] | None = None) -> User:
    """The person whose ``sub`` is ``user_id`` (tombstones included), or 404."""
    person = (queryset if queryset is not None else User.objects.all()).filter(sub=user_id).first()
    if person is None:
        raise Http404("No such person.")
    return person
