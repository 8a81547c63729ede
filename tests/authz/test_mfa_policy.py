"""The MFA policy: who must sign in with a second factor (never, staff, chosen groups)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from accounts.mfa.policy import mfa_required as asked_at_sign_in
from authz import services
from authz.mfa import client_requires_mfa, mfa_required
from authz.models import Group, MfaPolicy
from clients.models import Client

pytestmark = pytest.mark.django_db


def _policy(mode: str, groups: list[Group] | None = None) -> MfaPolicy:
    policy, _ = MfaPolicy.objects.update_or_create(pk=MfaPolicy.SINGLETON, defaults={"mode": mode})
    policy.groups.set(groups or [])
    return policy


@pytest.fixture
def managers() -> Group:
    return services.group_create(actor=None, name="Managers", description="")


@pytest.fixture
def leads(managers) -> Group:
    """Team leads: a group nested in Managers."""
    leads = services.group_create(actor=None, name="Team leads", description="")
    services.group_nest(actor=None, parent=managers, child=leads)
    return leads


def test_no_policy_row_means_never(user, staff_user):
    assert not MfaPolicy.objects.exists()
    assert mfa_required(user) is False
    assert mfa_required(staff_user) is False


def test_never_asks_nobody(user, staff_user):
    _policy(MfaPolicy.Mode.NEVER)
    assert mfa_required(user) is False
    assert mfa_required(staff_user) is False


def test_staff_asks_staff_only(user, staff_user):
    _policy(MfaPolicy.Mode.STAFF)
    assert mfa_required(staff_user) is True
    assert mfa_required(user) is False


def test_groups_asks_members_of_chosen_groups(user, staff_user, managers):
    _policy(MfaPolicy.Mode.GROUPS, [managers])
    services.group_add_member(actor=None, group=managers, user=user)
    assert mfa_required(user) is True
    assert mfa_required(staff_user) is False  # staff, but not a manager


def test_groups_counts_members_of_nested_groups(user, managers, leads):
    _policy(MfaPolicy.Mode.GROUPS, [managers])
    services.group_add_member(actor=None, group=leads, user=user)
    assert mfa_required(user) is True


def test_groups_does_not_flow_up_from_a_parent(user, managers, leads):
    """Choosing the nested group does not ask the members of its parent."""
    _policy(MfaPolicy.Mode.GROUPS, [leads])
    services.group_add_member(actor=None, group=managers, user=user)
    assert mfa_required(user) is False


def test_groups_with_no_group_chosen_asks_nobody(user, managers):
    _policy(MfaPolicy.Mode.GROUPS, [])
    services.group_add_member(actor=None, group=managers, user=user)
    assert mfa_required(user) is False


def test_the_sign_in_asks_this_policy(staff_user, user):
    """settings.MFA_POLICY names authz.mfa.mfa_required: the hook the sign-in calls."""
    _policy(MfaPolicy.Mode.STAFF)
    assert asked_at_sign_in(staff_user) is True
    assert asked_at_sign_in(user) is False


def test_a_change_holds_at_the_next_sign_in(staff_user):
    """Nothing is cached in the process: the next question reads the new policy."""
    _policy(MfaPolicy.Mode.STAFF)
    assert mfa_required(staff_user) is True
    _policy(MfaPolicy.Mode.NEVER)
    assert mfa_required(staff_user) is False


def test_only_one_policy_row_can_exist():
    with pytest.raises(IntegrityError):
        MfaPolicy.objects.create(pk=2, mode=MfaPolicy.Mode.STAFF)


def test_client_requires_mfa_follows_its_setting(public_client: Client):
    assert client_requires_mfa(public_client) is False
    public_client.require_mfa = True
    public_client.save(update_fields=["require_mfa"])
    public_client.refresh_from_db()
    assert client_requires_mfa(public_client) is True
