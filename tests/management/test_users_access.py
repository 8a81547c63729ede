"""A person's access through the Management API: roles and groups (how each is held, direct
assignments added and removed), effective permissions with reasons, sessions and refresh
tokens (listed and ended)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client as HttpClient
from oauth2_provider.models import get_refresh_token_model

from accounts.models import AuditEntry, User, UserSession
from accounts.services import user_delete
from authz.models import Role
from authz.services import (
    group_add_member,
    group_add_role,
    group_create,
    group_nest,
    role_assign,
    role_create,
    role_set_permissions,
    user_access_forget,
)
from tests.oauth import Pkce, exchange, get_code

RefreshToken = get_refresh_token_model()


@pytest.fixture
def approver(timesheets_api) -> Role:
    role = role_create(actor=None, name="Approver", description="Approves timesheets")
    role_set_permissions(
        actor=None, role=role, permissions=timesheets_api.scopes.filter(value="approve:timesheets")
    )
    return role


@pytest.fixture
def nested(user, approver):
    """``user`` is in Leads, which is inside All Staff, which holds ``approver``."""
    staff, leads = group_create(actor=None, name="All Staff"), group_create(actor=None, name="Leads")
    group_nest(actor=None, parent=staff, child=leads)
    group_add_role(actor=None, group=staff, role=approver)
    group_add_member(actor=None, group=leads, user=user)
    return staff, leads


def _actor_of(action: str) -> str:
    """Who did the latest ``action``."""
    entry = AuditEntry.objects.filter(action=action).order_by("-id").first()
    assert entry is not None, action
    return entry.actor_label


# --- Roles --------------------------------------------------------------------------------------


def test_roles_say_how_each_is_held(admin_api, user, approver, nested):
    reader = role_create(actor=None, name="Reader")
    role_assign(actor=None, role=reader, user=user)
    role_assign(actor=None, role=approver, user=user)

    response = admin_api.get(f"users/{user.sub}/roles")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == [
        {
            "id": approver.pk,
            "name": "Approver",
            "description": "Approves timesheets",
            "direct": True,
            "reasons": ["assigned directly", "via group All Staff (through Leads)"],
        },
        {
            "id": reader.pk,
            "name": "Reader",
            "description": "",
            "direct": True,
            "reasons": ["assigned directly"],
        },
    ]


def test_roles_are_assigned_all_or_none_and_audited_with_the_client(admin_api, user, approver):
    reader = role_create(actor=None, name="Reader")

    refused = admin_api.post(f"users/{user.sub}/roles", {"role_ids": [reader.pk, 999999]})
    assert refused.status_code == HTTPStatus.NOT_FOUND
    assert refused.json()["errors"] == [{"pointer": "#/role_ids/1", "detail": "No role with this id."}]
    assert not user.roles.exists()

    response = admin_api.post(f"users/{user.sub}/roles", {"role_ids": [reader.pk, approver.pk, reader.pk]})

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert set(user.roles.all()) == {reader, approver}
    entries = AuditEntry.objects.filter(action="role.assign")
    assert {entry.actor_label for entry in entries} == {f"client:{admin_api.client_id}"}
    assert entries.count() == 2
    again = admin_api.post(f"users/{user.sub}/roles", {"role_ids": [reader.pk]})
    assert again.status_code == HTTPStatus.NO_CONTENT and entries.count() == 2


@pytest.mark.parametrize(
    "body", [{}, {"role_ids": []}, {"role_ids": ["x"]}, {"role_ids": [1], "group_ids": [1]}, {"roles": [1]}]
)
def test_a_malformed_role_list_is_400(admin_api, user, body):
    response = admin_api.post(f"users/{user.sub}/roles", body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "invalid_request"


def test_only_a_direct_role_is_removed_here(admin_api, user, approver, nested):
    role_assign(actor=None, role=approver, user=user)

    assert admin_api.delete(f"users/{user.sub}/roles/{approver.pk}").status_code == HTTPStatus.NO_CONTENT

    assert not user.roles.exists()
    assert _actor_of("role.unassign") == f"client:{admin_api.client_id}"
    # Still held through the groups: that is the group's to change.
    held = admin_api.get(f"users/{user.sub}/roles").json()
    assert [(role["name"], role["direct"]) for role in held] == [("Approver", False)]
    assert admin_api.delete(f"users/{user.sub}/roles/{approver.pk}").status_code == HTTPStatus.NOT_FOUND


# --- Groups -------------------------------------------------------------------------------------


def test_groups_list_direct_ones_first_with_their_path(admin_api, user, nested):
    staff, leads = nested

    response = admin_api.get(f"users/{user.sub}/groups")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == [
        {"id": leads.pk, "name": "Leads", "description": "", "direct": True, "path": ["Leads"]},
        {
            "id": staff.pk,
            "name": "All Staff",
            "description": "",
            "direct": False,
            "path": ["Leads", "All Staff"],
        },
    ]


def test_groups_are_joined_and_left_through_the_services(admin_api, user, nested):
    staff, leads = nested

    added = admin_api.post(f"users/{user.sub}/groups", {"group_ids": [staff.pk]})

    assert added.status_code == HTTPStatus.NO_CONTENT
    assert set(user.authz_groups.all()) == {staff, leads}
    assert _actor_of("group.add_member") == f"client:{admin_api.client_id}"
    assert admin_api.delete(f"users/{user.sub}/groups/{leads.pk}").status_code == HTTPStatus.NO_CONTENT
    assert _actor_of("group.remove_member") == f"client:{admin_api.client_id}"
    assert list(user.authz_groups.all()) == [staff]
    refused = admin_api.post(f"users/{user.sub}/groups", {"group_ids": [leads.pk, 999999]})
    assert refused.status_code == HTTPStatus.NOT_FOUND
    assert refused.json()["errors"] == [{"pointer": "#/group_ids/1", "detail": "No group with this id."}]
    assert list(user.authz_groups.all()) == [staff]


def test_a_group_reached_only_through_nesting_is_not_left_here(admin_api, user, nested):
    staff, _ = nested

    assert admin_api.delete(f"users/{user.sub}/groups/{staff.pk}").status_code == HTTPStatus.NOT_FOUND


def test_a_tombstones_access_cannot_be_given_back(admin_api, user, approver, nested):
    _, leads = nested
    user_delete(actor=None, user=user, revoke_access=user_access_forget)

    for response in (
        admin_api.post(f"users/{user.sub}/roles", {"role_ids": [approver.pk]}),
        admin_api.post(f"users/{user.sub}/groups", {"group_ids": [leads.pk]}),
    ):
        assert response.status_code == HTTPStatus.CONFLICT
    assert not user.roles.exists() and not user.authz_groups.exists()


# --- Permissions --------------------------------------------------------------------------------


def test_effective_permissions_carry_every_reason(admin_api, user, approver, nested, timesheets_api):
    role_assign(actor=None, role=approver, user=user)

    response = admin_api.get(f"users/{user.sub}/permissions")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == [
        {
            "resource_server_identifier": timesheets_api.identifier,
            "permission_name": "approve:timesheets",
            "reasons": ["role Approver", "role Approver via group All Staff (through Leads)"],
        }
    ]


def test_reads_of_an_unknown_person_are_404(admin_api):
    for what in ("roles", "groups", "permissions", "sessions", "refresh-tokens"):
        response = admin_api.get(f"users/00000000-0000-4000-8000-000000000000/{what}")
        assert response.status_code == HTTPStatus.NOT_FOUND, what


# --- Sessions and refresh tokens ----------------------------------------------------------------


def _sign_in_to_app(http: HttpClient, client_id: str, api) -> dict:
    pkce = Pkce.new()
    code = get_code(
        http, client_id, pkce, scope="openid offline_access read:timesheets", audience=api.identifier
    )
    response = exchange(http, client_id, code, pkce.verifier)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def test_a_session_is_listed_and_ended(admin_api, user, password):
    browser = HttpClient(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox (test)")
    browser.post("/login/", {"username": user.email, "password": password})
    session = UserSession.objects.get(user=user)

    listed = admin_api.get(f"users/{user.sub}/sessions")

    assert listed.status_code == HTTPStatus.OK
    [row] = listed.json()
    assert (row["id"], row["ip"], row["user_agent"]) == (session.pk, "203.0.113.7", "Firefox (test)")
    assert admin_api.delete(f"users/{user.sub}/sessions/{session.pk}").status_code == HTTPStatus.NO_CONTENT
    assert browser.get("/account/")["Location"].startswith("/login/")
    assert admin_api.get(f"users/{user.sub}/sessions").json() == []
    assert _actor_of("session.end") == f"client:{admin_api.client_id}"
    assert admin_api.delete(f"users/{user.sub}/sessions/{session.pk}").status_code == HTTPStatus.NOT_FOUND


def test_someone_elses_session_is_404(admin_api, user, staff_user, user_client):
    session = UserSession.objects.get(user=user)

    response = admin_api.delete(f"users/{staff_user.sub}/sessions/{session.pk}")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert user_client.get("/account/").status_code == HTTPStatus.OK


def test_a_refresh_token_is_listed_and_revoked_with_its_grant(
    admin_api, user, user_client, public_client, timesheets_api
):
    tokens = _sign_in_to_app(user_client, public_client.client_id, timesheets_api)
    (refresh,) = RefreshToken.objects.filter(user=user, revoked__isnull=True)

    listed = admin_api.get(f"users/{user.sub}/refresh-tokens")

    [row] = listed.json()
    assert (row["id"], row["client_id"]) == (refresh.pk, public_client.client_id)
    assert row["client_name"] == "Timesheets Mobile (test)" and row["idle_expires_at"] > row["created_at"]
    assert tokens["refresh_token"] not in listed.content.decode()  # never the token itself
    bearer: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}
    assert HttpClient().get("/api/timesheets", **bearer).status_code == HTTPStatus.OK

    revoked = admin_api.delete(f"users/{user.sub}/refresh-tokens/{refresh.pk}")

    assert revoked.status_code == HTTPStatus.NO_CONTENT
    refreshed = HttpClient().post(
        "/oauth/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": public_client.client_id,
        },
    )
    assert refreshed.json()["error"] == "invalid_grant"
    assert HttpClient().get("/api/timesheets", **bearer).status_code == HTTPStatus.UNAUTHORIZED
    assert admin_api.get(f"users/{user.sub}/refresh-tokens").json() == []
    assert _actor_of("refresh_token.revoke") == f"client:{admin_api.client_id}"
    again = admin_api.delete(f"users/{user.sub}/refresh-tokens/{refresh.pk}")
    assert again.status_code == HTTPStatus.NOT_FOUND


def test_someone_elses_refresh_token_is_404(
    admin_api, user, staff_user, user_client, public_client, timesheets_api
):
    _sign_in_to_app(user_client, public_client.client_id, timesheets_api)
    (refresh,) = RefreshToken.objects.filter(user=user, revoked__isnull=True)

    response = admin_api.delete(f"users/{staff_user.sub}/refresh-tokens/{refresh.pk}")

    assert response.status_code == HTTPStatus.NOT_FOUND
    refresh.refresh_from_db()
    assert refresh.revoked is None
    assert User.objects.get(pk=user.pk).is_active
