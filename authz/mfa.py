"""Who must sign in with a second factor: the organisation's policy and each application's.

``settings.MFA_POLICY`` names ``mfa_required``: the sign-in (``accounts.mfa.signin``) asks
it after a right password. Nothing is cached in the process: the policy is one row read per
sign-in, so a change in the dashboard holds at once in every worker.
"""

from __future__ import annotations

from accounts.models import User
from clients.models import Client

from .models import MfaPolicy
from .selectors import user_group_paths


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
