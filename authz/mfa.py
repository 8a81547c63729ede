"""Who must sign in with a second factor: the organisation's policy and each application's.

``settings.MFA_POLICY`` names ``mfa_required``: the sign-in (``accounts.mfa.signin``) asks
it after a right password. Nothing is cached in the process: the policy is one row read per
sign-in, so a change in the dashboard holds at once in every worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.audit import audit_record
from accounts.mfa.models import Passkey
from accounts.models import User
from clients.models import Client

from .models import Group, MfaPolicy
from .selectors import GroupMember, group_descendants, user_group_paths


def mfa_policy() -> MfaPolicy:
    """The policy row as stored, or an unsaved "never" one when nobody has set it."""
    return MfaPolicy.objects.filter(pk=MfaPolicy.SINGLETON).first() or MfaPolicy(mode=MfaPolicy.Mode.NEVER)


def policy_applies(policy: MfaPolicy, user: User, *, group_ids: set[int] | None = None) -> bool:
    """Whether ``policy`` asks ``user`` for a second factor. ``group_ids``: the policy's
    chosen groups when the caller already has them (otherwise read from ``policy``)."""
    if policy.mode == MfaPolicy.Mode.STAFF:
        return user.is_staff
    if policy.mode == MfaPolicy.Mode.GROUPS:
        if group_ids is None:
            group_ids = set(policy.groups.values_list("pk", flat=True)) if policy.pk else set()
        # Members of a group nested in a chosen one are members of the chosen one.
        return bool(group_ids) and not group_ids.isdisjoint(user_group_paths(user))
    return False


def mfa_required(user: User) -> bool:
    """``MFA_POLICY``: whether ``user`` must sign in with a second factor (and enrol one
    first). Inactive people never get that far; anonymous ones are never asked."""
    if not user.is_authenticated:
        return False
    policy = mfa_policy()
    if policy.mode == MfaPolicy.Mode.NEVER:
        return False
    return policy_applies(policy, user)


def client_requires_mfa(client: Client) -> bool:
    """Whether signing in to ``client`` needs a second factor, whoever signs in."""
    return bool(client.require_mfa)


# --- Who a policy reaches, and changing it ----------------------------------------------------


@dataclass(frozen=True)
class PolicyReach:
    """How many active people a policy asks for a second factor, and how many of them have
    none yet (they enrol at their next sign-in)."""

    people: int
    without_factor: int


def _chosen_with_nested(group_ids: Iterable[int]) -> set[int]:
    chosen = set(group_ids)
    for group_id in list(chosen):
        chosen |= group_descendants(group_id)
    return chosen


def people_asked(mode: str, group_ids: Iterable[int] = ()) -> QuerySet[User]:
    """The active people a policy of ``mode`` (with ``group_ids`` chosen) asks for a
    second factor: the same answer ``policy_applies`` gives one person at a time."""
    active = User.objects.filter(is_active=True)
    if mode == MfaPolicy.Mode.STAFF:
        return active.filter(is_staff=True)
    if mode == MfaPolicy.Mode.GROUPS:
        chosen = _chosen_with_nested(group_ids)
        return active.filter(pk__in=GroupMember.objects.filter(group_id__in=chosen).values("user_id"))
    return active.none()


def policy_reach(mode: str, group_ids: Iterable[int] = ()) -> PolicyReach:
    """Counted with ``accounts.mfa.selectors.has_second_factor``'s meaning of a factor: a
    confirmed authenticator app or a passkey (recovery codes alone do not count)."""
    people = people_asked(mode, group_ids)
    without_factor = people.exclude(
        Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
    ).exclude(Exists(Passkey.objects.filter(user=OuterRef("pk"))))
    return PolicyReach(people=people.count(), without_factor=without_factor.count())


def _policy_state(policy: MfaPolicy) -> dict[str, Any]:
    groups = sorted(policy.groups.values_list("name", flat=True)) if policy.pk else []
    return {"mode": policy.mode, "groups": groups}


@transaction.atomic
def mfa_policy_set(*, actor: User | None, mode: str, groups: Iterable[Group] = ()) -> MfaPolicy:
    """Make ``mode`` the policy from the next sign-in on. ``groups`` are kept only for
    "members of chosen groups", which needs at least one."""
    if mode not in MfaPolicy.Mode.values:
        raise ValidationError({"mode": "Choose never, staff or members of chosen groups."})
    chosen = list(groups) if mode == MfaPolicy.Mode.GROUPS else []
    if mode == MfaPolicy.Mode.GROUPS and not chosen:
        raise ValidationError({"groups": "Choose at least one group."})
    # Lock the row so two administrators saving at once leave one of their choices whole.
    policy = MfaPolicy.objects.select_for_update().filter(pk=MfaPolicy.SINGLETON).first()
    before = _policy_state(policy) if policy is not None else {"mode": MfaPolicy.Mode.NEVER, "groups": []}
    policy = policy or MfaPolicy(pk=MfaPolicy.SINGLETON)
    policy.mode = mode
    policy.save()
    policy.groups.set(chosen)
    after = _policy_state(policy)
    if after != before:
        audit_record(actor=actor, action="mfa.policy.update", target=policy, before=before, after=after)
    return policy
