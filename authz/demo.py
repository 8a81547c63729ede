"""ABC Inc.'s roles and groups, for ``manage.py seed_demo``."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from apis.models import Api

from .models import Group, Role
from .services import (
    group_add_member,
    group_add_role,
    group_create,
    group_nest,
    role_create,
    role_set_permissions,
)

ROLES = {
    "Timesheet User": (
        "Log, read and delete one's own time.",
        ["read:timesheets", "create:timesheets", "delete:timesheets"],
    ),
    "Timesheet Approver": (
        "Approve the timesheets of one's reports.",
        ["read:timesheets", "approve:timesheets"],
    ),
}


@transaction.atomic
def seed_roles_and_groups(*, api: Api, workers: list[User], managers: list[User]) -> None:
    """Roles Timesheet User and Approver; groups All Staff (every worker) and Managers."""
    scopes = {scope.value: scope for scope in api.scopes.all()}
    roles = {}
    for name, (description, values) in ROLES.items():
        role = Role.objects.filter(name=name).first() or role_create(
            actor=None, name=name, description=description
        )
        role_set_permissions(actor=None, role=role, permissions=[scopes[value] for value in values])
        roles[name] = role

    all_staff = Group.objects.filter(name="All Staff").first() or group_create(
        actor=None, name="All Staff", description="Everyone who logs time."
    )
    managers_group = Group.objects.filter(name="Managers").first() or group_create(
        actor=None, name="Managers", description="People who approve their reports' time."
    )
    group_add_role(actor=None, group=all_staff, role=roles["Timesheet User"])
    group_add_role(actor=None, group=managers_group, role=roles["Timesheet Approver"])
    group_nest(actor=None, parent=all_staff, child=managers_group)
    for user in workers:
        group_add_member(actor=None, group=all_staff, user=user)
    for user in managers:
        group_add_member(actor=None, group=managers_group, user=user)
