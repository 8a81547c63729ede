"""Two staff roles: administrators change things, auditors only look; nobody raises
their own privileges."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client as HttpClient

from accounts.models import AuditEntry, User
from apis.models import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(db, password) -> User:
    return User.objects.create_user(
        email="auditor@abcinc.example", password=password, is_staff=True, staff_role=User.StaffRole.AUDITOR
    )


def _as(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.mark.parametrize(
    "path",
    ["/dashboard/", "/dashboard/apis/", "/dashboard/applications/", "/dashboard/roles/", "/dashboard/audit/"],
)
def test_auditors_see_everything(auditor, path):
    assert _as(auditor).get(path).status_code == HTTPStatus.OK


def test_auditors_change_nothing_and_the_attempt_is_audited(auditor):
    response = _as(auditor).post(
        "/dashboard/apis/new/",
        {"name": "X", "identifier": "https://x.example/api", "signing_algorithm": "RS256"},
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Api.objects.filter(system=False).exists()
    denial = AuditEntry.objects.get(action="security.dashboard_denied")
    assert denial.actor_label == auditor.email
    assert denial.after is not None
    assert denial.after["path"] == "/dashboard/apis/new/"


def test_auditors_cannot_reveal_secrets(auditor, hs256_api):
    response = _as(auditor).get(f"/dashboard/apis/{hs256_api.pk}/signing/secret/")
    assert response.status_code in {HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND}
    assert hs256_api.hs256_secret.encode() not in response.content


def test_non_staff_denials_are_logged(user_client, user):
    assert user_client.get("/dashboard/").status_code == HTTPStatus.FORBIDDEN
    assert AuditEntry.objects.filter(action="security.dashboard_denied", actor=user).exists()


def test_an_admin_grants_and_removes_staff_access(staff_user, user):
    http = _as(staff_user)
    http.post(f"/dashboard/people/{user.pk}/staff/", {"staff_role": "auditor"})
    user.refresh_from_db()
    assert (user.is_staff, user.staff_role) == (True, User.StaffRole.AUDITOR)
    http.post(f"/dashboard/people/{user.pk}/staff/", {"staff_role": ""})
    user.refresh_from_db()
    assert not user.is_staff
    assert AuditEntry.objects.filter(action="user.staff_role").count() == 2


def test_nobody_raises_their_own_privileges(auditor, staff_user):
    # An auditor cannot post at all; an admin cannot change their own role either.
    assert (
        _as(auditor).post(f"/dashboard/people/{auditor.pk}/staff/", {"staff_role": "admin"}).status_code
        == 403
    )
    _as(staff_user).post(f"/dashboard/people/{staff_user.pk}/staff/", {"staff_role": "auditor"})
    auditor.refresh_from_db()
    staff_user.refresh_from_db()
    assert auditor.staff_role == User.StaffRole.AUDITOR
    assert staff_user.staff_role == User.StaffRole.ADMIN


def test_no_profile_edit_touches_staff_flags(staff_user, user):
    _as(staff_user).post(
        f"/dashboard/people/{user.pk}/profile/",
        {
            "name": "Alice",
            "nickname": "al",
            "picture": "",
            "worker_type": "employee",
            "is_staff": "on",
            "staff_role": "admin",
        },
    )
    user.refresh_from_db()
    assert not user.is_staff


# --- A staff role belongs to staff only (issue 13, point 8) -----------------------------------


def test_demotion_clears_the_staff_role(staff_user, user):
    """A member demoted from staff keeps no role that a later promotion would revive."""
    http = _as(staff_user)
    http.post(f"/dashboard/people/{user.pk}/staff/", {"staff_role": "admin"})
    http.post(f"/dashboard/people/{user.pk}/staff/", {"staff_role": ""})
    user.refresh_from_db()
    assert (user.is_staff, user.staff_role) == (False, "")
    demotion = AuditEntry.objects.filter(action="user.staff_role").latest("pk")
    assert demotion.before == {"is_staff": True, "staff_role": "admin"}
    assert demotion.after == {"is_staff": False, "staff_role": ""}


def test_people_who_are_not_staff_have_no_staff_role(user):
    assert (user.is_staff, user.staff_role) == (False, "")
    assert not user.is_dashboard_admin


def test_every_save_that_ends_staff_access_clears_the_role(staff_user):
    # Not only the service: any write of is_staff=False through the model (a seed, a shell).
    staff_user.is_staff = False
    staff_user.save(update_fields=["is_staff"])
    staff_user.refresh_from_db()
    assert (staff_user.is_staff, staff_user.staff_role) == (False, "")


def test_a_staff_member_created_without_a_role_is_an_administrator(password):
    # What createsuperuser and the demo seed make: staff, no role named.
    admin = User.objects.create_user(email="root@abcinc.example", password=password, is_staff=True)
    assert admin.staff_role == User.StaffRole.ADMIN
    assert admin.is_dashboard_admin


def test_the_database_refuses_a_role_without_staff_access(staff_user, user):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=staff_user.pk).update(is_staff=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(staff_role=User.StaffRole.ADMIN)
    # Through the model, a role given to someone who is not staff is dropped.
    assert User.objects.create(email="x@abcinc.example", staff_role=User.StaffRole.AUDITOR).staff_role == ""


@pytest.mark.django_db(transaction=True)
def test_the_migration_clears_roles_that_demoted_members_kept():
    executor = MigrationExecutor(connection)
    before, after = [("accounts", "0004_user_staff_role")], [("accounts", "0005_staff_role_only_for_staff")]
    executor.migrate(before)
    old_user = executor.loader.project_state(before).apps.get_model("accounts", "User")
    old_user.objects.create(email="demoted@abcinc.example", is_staff=False, staff_role="admin")
    old_user.objects.create(email="auditor@abcinc.example", is_staff=True, staff_role="auditor")
    executor = MigrationExecutor(connection)  # reload the graph: the database changed
    executor.migrate(after)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    roles = dict(User.objects.values_list("email", "staff_role"))
    assert roles == {"demoted@abcinc.example": "", "auditor@abcinc.example": "auditor"}
