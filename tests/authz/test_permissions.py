"""Effective permissions through roles and nested groups, with reasons, in bounded queries."""

from __future__ import annotations

from itertools import pairwise

import pytest
from django.core.exceptions import ValidationError

from accounts.audit import AuditEntry
from accounts.models import User
from authz.selectors import user_permission_values, user_permissions, user_roles, who_has_permission
from authz.services import (
    group_add_member,
    group_add_role,
    group_create,
    group_nest,
    role_assign,
    role_create,
    role_set_permissions,
    role_unassign,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def roles(timesheets_api):
    scopes = {scope.value: scope for scope in timesheets_api.scopes.all()}
    user_role = role_create(actor=None, name="Timesheet User")
    role_set_permissions(
        actor=None, role=user_role, permissions=[scopes["read:timesheets"], scopes["create:timesheets"]]
    )
    approver = role_create(actor=None, name="Timesheet Approver")
    role_set_permissions(
        actor=None, role=approver, permissions=[scopes["read:timesheets"], scopes["approve:timesheets"]]
    )
    return user_role, approver


def test_direct_roles_give_permissions_with_the_reason(user, timesheets_api, roles):
    user_role, _ = roles
    role_assign(actor=None, role=user_role, user=user)
    assert user_permission_values(user, timesheets_api) == {
        "create:timesheets": ("role Timesheet User",),
        "read:timesheets": ("role Timesheet User",),
    }


def test_permissions_flow_down_nested_groups(user, timesheets_api, roles):
    user_role, approver = roles
    staff = group_create(actor=None, name="All Staff")
    managers = group_create(actor=None, name="Managers")
    leads = group_create(actor=None, name="Team Leads")
    group_add_role(actor=None, group=staff, role=user_role)
    group_add_role(actor=None, group=managers, role=approver)
    group_nest(actor=None, parent=staff, child=managers)
    group_nest(actor=None, parent=managers, child=leads)
    group_add_member(actor=None, group=leads, user=user)

    held = user_permission_values(user, timesheets_api)
    assert held["approve:timesheets"] == ("role Timesheet Approver via group Managers (through Team Leads)",)
    assert held["create:timesheets"] == (
        "role Timesheet User via group All Staff (through Team Leads → Managers)",
    )
    assert set(held["read:timesheets"]) == {
        "role Timesheet Approver via group Managers (through Team Leads)",
        "role Timesheet User via group All Staff (through Team Leads → Managers)",
    }
    assert [role.name for role, _ in user_roles(user)] == ["Timesheet Approver", "Timesheet User"]


@pytest.mark.parametrize("depth", [1, 5, 25])
def test_the_query_count_does_not_grow_with_depth(
    user, timesheets_api, roles, depth, django_assert_max_num_queries
):
    user_role, _ = roles
    groups = [group_create(actor=None, name=f"Level {level}") for level in range(depth)]
    for parent, child in pairwise(groups):
        group_nest(actor=None, parent=parent, child=child)
    group_add_role(actor=None, group=groups[0], role=user_role)
    group_add_member(actor=None, group=groups[-1], user=user)
    with django_assert_max_num_queries(5):
        held = user_permissions(user, api=timesheets_api)
    assert {permission.scope for permission in held} == {"read:timesheets", "create:timesheets"}


def test_cycles_are_refused_with_a_clear_error():
    a = group_create(actor=None, name="A")
    b = group_create(actor=None, name="B")
    c = group_create(actor=None, name="C")
    group_nest(actor=None, parent=a, child=b)
    group_nest(actor=None, parent=b, child=c)
    with pytest.raises(ValidationError, match="cycle"):
        group_nest(actor=None, parent=c, child=a)
    with pytest.raises(ValidationError, match="itself"):
        group_nest(actor=None, parent=a, child=a)
    assert not a.parent_groups.exists()


def test_who_has_a_permission_and_through_what(user, timesheets_api, roles):
    user_role, approver = roles
    bob = User.objects.create_user(email="bob@abcinc.example", password="x" * 20)
    managers = group_create(actor=None, name="Managers")
    group_add_role(actor=None, group=managers, role=approver)
    group_add_member(actor=None, group=managers, user=bob)
    role_assign(actor=None, role=user_role, user=user)

    approve = timesheets_api.scopes.get(value="approve:timesheets")
    holders = who_has_permission(approve)
    assert [(h.user.email, h.reasons) for h in holders] == [
        ("bob@abcinc.example", ("role Timesheet Approver via group Managers",))
    ]
    read = timesheets_api.scopes.get(value="read:timesheets")
    assert [h.user.email for h in who_has_permission(read)] == ["alice@abcinc.example", "bob@abcinc.example"]


def test_changes_are_audited_with_actor_and_before_after(user, staff_user, roles):
    user_role, _ = roles
    role_assign(actor=staff_user, role=user_role, user=user)
    role_unassign(actor=staff_user, role=user_role, user=user)
    entries = list(
        AuditEntry.objects.filter(action__in=["role.assign", "role.unassign"]).order_by("at", "id")
    )
    assert [(e.action, e.actor_label, e.target_label) for e in entries] == [
        ("role.assign", "admin@abcinc.example", "Timesheet User"),
        ("role.unassign", "admin@abcinc.example", "Timesheet User"),
    ]
    assert entries[0].after == {"user": "alice@abcinc.example"}
    assert entries[1].before == {"user": "alice@abcinc.example"}
    created = AuditEntry.objects.get(action="role.permissions", target_label="Timesheet User")
    assert created.before is not None and created.after is not None
    assert created.before["permissions"] == []
    assert len(created.after["permissions"]) == 2
