"""Losing a permission reaches tokens already issued (Keycloak's "not before", per API).

A change to roles, groups or memberships is made inside ``permissions_watched(people)``:
whoever of ``people`` holds fewer permissions on an RBAC API afterwards has the tokens
issued until now for that API refused there and at introspection. Their next refresh
asks the token policy again and gets the reduced scopes, without signing in again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from accounts.models import User
from apis.models import Api, Revocation
from apis.revocation import pair, revoke

from .selectors import GroupMember, group_descendants, user_permissions


@dataclass
class PermissionLoss:
    """Who lost what in a watched change: ``{person: API identifiers}``."""

    lost: dict[User, set[str]] = field(default_factory=dict)

    @property
    def people(self) -> int:
        return len(self.lost)


def _held(user: User, rbac_apis: set[str]) -> set[tuple[str, str]]:
    return {(held.api, held.scope) for held in user_permissions(user) if held.api in rbac_apis}


@contextmanager
def permissions_watched(people: Iterable[User]) -> Iterator[PermissionLoss]:
    """Revoke the earlier tokens of those of ``people`` who lose a permission in the block."""
    people = list(people)
    rbac_apis = set(Api.objects.filter(rbac_enabled=True).values_list("identifier", flat=True))
    before = {person: _held(person, rbac_apis) for person in people}
    loss = PermissionLoss()
    yield loss
    for person, held in before.items():
        lost = {api for api, _scope in held - _held(person, rbac_apis)}
        if lost:
            loss.lost[person] = lost
    revoke(
        (Revocation.Kind.USER_AUDIENCE, pair(str(person.sub), api))
        for person, apis in loss.lost.items()
        for api in apis
    )


def group_people(group_id: int) -> list[User]:
    """Everyone a change to this group can concern: its members and those of groups inside it."""
    groups = {group_id} | group_descendants(group_id)
    member_ids = GroupMember.objects.filter(group_id__in=groups).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=member_ids))
