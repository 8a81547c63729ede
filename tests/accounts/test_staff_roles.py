"""Two staff roles: administrators change things, auditors only look; nobody raises
their own privileges."""

from __future__ import annotations

from http import HTTPStatus

import pytest
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
    assert not Api.objects.exists()
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
