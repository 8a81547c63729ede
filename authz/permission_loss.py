"""Losing a permission reaches tokens already issued (Keycloak's "not before", per API).

A change to roles, groups or memberships is made inside ``permissions_watched(people)``:
whoever of ``people`` holds fewer permissions on an RBAC API afterwards has the tokens
issued until now for that API refused there and at introspection. Their next refresh
asks the token policy again and gets the reduced scopes, without signing in again.

``permission_loss_preview`` says who would lose what without making the change (the
dashboard's confirmations), and ``live_grants`` how many live grants that reaches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model

from accounts.models import User
from accounts.versions import CONFIGURATION, PERMISSIONS
from apis.models import Api, Revocation
from apis.revocation import pair, revoke

from .models import AccessTokenRecord
from .selectors import GroupMember, group_descendants, user_permissions

RefreshToken = get_refresh_token_model()


@dataclass
class PermissionLoss:
    """Who lost what in a watched change: ``{person: API identifiers}``."""

    lost: dict[User, set[str]] = field(default_factory=dict)

    @property
    def people(self) -> int:
        return len(self.lost)

    @property
    def apis(self) -> set[str]:
        """Every API on which somebody lost a permission."""
        return set().union(*self.lost.values())


def _held(user: User, rbac_apis: set[str]) -> set[tuple[str, str]]:
    return {(held.api, held.scope) for held in user_permissions(user) if held.api in rbac_apis}


@contextmanager
def _losses_watched(people: Iterable[User]) -> Iterator[PermissionLoss]:
    """Fill the yielded loss, when the block ends, with who of ``people`` holds less; no more."""
    people = list(people)
    rbac_apis = set(Api.objects.filter(rbac_enabled=True).values_list("identifier", flat=True))
    before = {person: _held(person, rbac_apis) for person in people}
    loss = PermissionLoss()
    yield loss
    for person, held in before.items():
        lost = {api for api, _scope in held - _held(person, rbac_apis)}
        if lost:
            loss.lost[person] = lost


@contextmanager
def permissions_watched(people: Iterable[User]) -> Iterator[PermissionLoss]:
    """Revoke the earlier tokens of those of ``people`` who lose a permission in the block."""
    with _losses_watched(people) as loss:
        yield loss
    revoke(
        (Revocation.Kind.USER_AUDIENCE, pair(str(person.sub), api))
        for person, apis in loss.lost.items()
        for api in apis
    )


def permission_loss_preview(people: Iterable[User], change: Callable[[], object]) -> PermissionLoss:
    """Who of ``people`` would lose what if ``change`` were made; nothing is kept or revoked.

    ``change`` runs in a block that is always rolled back (a savepoint inside a transaction,
    the transaction itself otherwise), so it must only write the database: pass the bare
    model change, not a service, whose audit entry and revocation are not wanted here.
    """
    with transaction.atomic():
        with _losses_watched(people) as loss:
            change()
        transaction.set_rollback(True)
    # Whatever this process copied while the change was visible never happened.
    PERMISSIONS.forget_local()
    CONFIGURATION.forget_local()
    return loss


def live_grants(loss: PermissionLoss) -> int:
    """How many live grants of the people in ``loss`` are for an API they lose a permission on.

    A grant (one sign-in, its ``grant_id``) counts when it has an unexpired access token
    for such an API, or an unrevoked refresh token whose family minted one (expired or not:
    the next refresh is for the same API). A family whose access tokens have all been
    cleaned up can no longer be tied to an API and is not counted.
    """
    if not loss.lost:
        return 0
    records = AccessTokenRecord.objects.filter(
        reduce(or_, (Q(access_token__user=person, audience__in=apis) for person, apis in loss.lost.items()))
    )
    live = set(records.filter(access_token__expires__gt=timezone.now()).values_list("grant_id", flat=True))
    families = RefreshToken.objects.filter(
        user__in=list(loss.lost), revoked__isnull=True, token_family__in=records.values("grant_id")
    )
    return len(live | set(families.values_list("token_family", flat=True)))


def group_people(group_id: int) -> list[User]:
    """Everyone a change to this group can concern: its members and those of groups inside it."""
    groups = {group_id} | group_descendants(group_id)
    member_ids = GroupMember.objects.filter(group_id__in=groups).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=member_ids))
