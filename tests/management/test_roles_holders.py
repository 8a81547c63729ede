"""/api/v2/roles/{id}/users and /api/v2/who-can: who holds a role or a permission, and how."""

from __future__ import annotations

import uuid
from http import HTTPStatus
from urllib.parse import urlencode

import pytest

from accounts.models import AuditEntry, User
from authz.models import Group, Role
from authz.selectors import holders_of_roles, who_has_permission
from authz.services import (
    group_add_member,
    group_add_role,
    group_create,
    group_nest,
    role_assign,
    role_create,
    role_set_permissions,
)
from tests.oauth import TIMESHEETS_API


def _person(email: str) -> User:
    return User.objects.create_user(email=email, name=email.split("@")[0].title())


@pytest.fixture
def org(timesheets_api) -> dict:
    """Approver: Ann directly; Managers has it, Team leads sit inside Managers (Bob), Cat is in
    Managers and holds it directly too; Dan holds nothing."""
    people = {name: _person(f"{name}@abcinc.example") for name in ("ann", "bob", "cat", "dan")}
    approver = role_create(actor=None, name="Approver")
    role_set_permissions(
        actor=None, role=approver, permissions=timesheets_api.scopes.filter(value="approve:timesheets")
    )
    managers, leads = group_create(actor=None, name="Managers"), group_create(actor=None, name="Team leads")
    group_add_role(actor=None, group=managers, role=approver)
    group_nest(actor=None, parent=managers, child=leads)
    group_add_member(actor=None, group=leads, user=people["bob"])
    group_add_member(actor=None, group=managers, user=people["cat"])
    role_assign(actor=None, role=approver, user=people["ann"])
    role_assign(actor=None, role=approver, user=people["cat"])
    return {**people, "approver": approver, "managers": managers, "leads": leads}


def _holders(response) -> dict[str, list[dict]]:
    assert response.status_code == HTTPStatus.OK, response.content
    return {holder["email"]: holder["routes"] for holder in response.json()["results"]}


def test_holders_come_with_every_route(admin_api, org):
    response = admin_api.get(f"roles/{org['approver'].pk}/users")

    assert _holders(response) == {
        "ann@abcinc.example": [{"role": "Approver", "groups": []}],
        "bob@abcinc.example": [{"role": "Approver", "groups": ["Team leads", "Managers"]}],
        "cat@abcinc.example": [
            {"role": "Approver", "groups": []},
            {"role": "Approver", "groups": ["Managers"]},
        ],
    }
    bob = response.json()["results"][1]
    assert bob["user_id"] == str(org["bob"].sub)
    assert bob["name"] == "Bob"


def test_holders_are_the_people_the_dashboard_finds(admin_api, org):
    listed = admin_api.get(f"roles/{org['approver'].pk}/users").json()["results"]
    scope = org["approver"].permissions.get()
    who = admin_api.get(
        "who-can?" + urlencode({"resource_server_identifier": TIMESHEETS_API, "permission_name": scope.value})
    )

    dashboard = [str(holder.user.sub) for holder in holders_of_roles({org["approver"].pk: "Approver"})]
    assert [holder["user_id"] for holder in listed] == dashboard
    assert [holder["user_id"] for holder in who.json()["results"]] == [
        str(holder.user.sub) for holder in who_has_permission(scope)
    ]


def test_holders_page_by_email(admin_api, org):
    first = admin_api.get(f"roles/{org['approver'].pk}/users?page_size=2").json()

    assert [holder["email"] for holder in first["results"]] == ["ann@abcinc.example", "bob@abcinc.example"]
    assert first["next"]


def test_who_can_names_the_role_and_the_groups(admin_api, org, timesheets_api):
    other = role_create(actor=None, name="Payroll")
    role_set_permissions(
        actor=None, role=other, permissions=timesheets_api.scopes.filter(value="approve:timesheets")
    )
    role_assign(actor=None, role=other, user=org["dan"])

    response = admin_api.get(
        "who-can?"
        + urlencode({"resource_server_identifier": TIMESHEETS_API, "permission_name": "approve:timesheets"})
    )

    holders = _holders(response)
    assert holders["dan@abcinc.example"] == [{"role": "Payroll", "groups": []}]
    assert holders["bob@abcinc.example"] == [{"role": "Approver", "groups": ["Team leads", "Managers"]}]
    assert set(holders) == {
        "ann@abcinc.example",
        "bob@abcinc.example",
        "cat@abcinc.example",
        "dan@abcinc.example",
    }


def test_who_can_an_unknown_permission_is_404_and_a_missing_parameter_400(admin_api, org):
    unknown = admin_api.get(
        "who-can?" + urlencode({"resource_server_identifier": TIMESHEETS_API, "permission_name": "fly"})
    )
    missing = admin_api.get("who-can?permission_name=approve:timesheets")

    assert unknown.status_code == HTTPStatus.NOT_FOUND
    assert missing.status_code == HTTPStatus.BAD_REQUEST
    assert missing.json()["errors"][0]["pointer"] == "#/resource_server_identifier"


def test_assign_directly_then_unassign(admin_api, org):
    role = org["approver"]
    dan = org["dan"]

    assigned = admin_api.post(f"roles/{role.pk}/users", {"user_ids": [str(dan.sub), str(org["ann"].sub)]})

    assert assigned.status_code == HTTPStatus.NO_CONTENT
    assert role.users.filter(pk=dan.pk).exists()
    entries = AuditEntry.objects.filter(action="role.assign", actor_label=f"client:{admin_api.client_id}")
    assert [entry.after for entry in entries] == [{"user": dan.email}]  # Ann had it already
    assert admin_api.delete(f"roles/{role.pk}/users/{dan.sub}").status_code == HTTPStatus.NO_CONTENT
    assert not role.users.filter(pk=dan.pk).exists()
    assert AuditEntry.objects.get(action="role.unassign").actor_label == f"client:{admin_api.client_id}"


def test_unknown_people_are_400_on_their_item_and_nobody_is_assigned(admin_api, org):
    response = admin_api.post(
        f"roles/{org['approver'].pk}/users", {"user_ids": [str(org["dan"].sub), str(uuid.uuid4())]}
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert [error["pointer"] for error in response.json()["errors"]] == ["#/user_ids/1"]
    assert not org["approver"].users.filter(pk=org["dan"].pk).exists()


def test_a_role_held_through_a_group_cannot_be_unassigned_directly(admin_api, org):
    response = admin_api.delete(f"roles/{org['approver'].pk}/users/{org['bob'].sub}")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert Group.objects.get(name="Team leads").members.filter(pk=org["bob"].pk).exists()


def test_a_deleted_role_has_no_holders_to_list(admin_api, org):
    pk = org["approver"].pk
    Role.objects.filter(pk=pk).delete()

    assert admin_api.get(f"roles/{pk}/users").status_code == HTTPStatus.NOT_FOUND
    assert (
        admin_api.post(f"roles/{pk}/users", {"user_ids": [str(org["dan"].sub)]}).status_code
        == HTTPStatus.NOT_FOUND
    )


def test_who_can_a_blank_permission_is_404(admin_api, org):
    response = admin_api.get("who-can?resource_server_identifier=&permission_name=")

    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("collection", ["roles", "groups", "who-can"])
def test_a_nul_or_overlong_query_text_is_400_not_a_database_error(admin_api, collection):
    name = "resource_server_identifier" if collection == "who-can" else "name_filter"
    for value in ("a\x00b", "x" * 256):
        query = {name: value, "permission_name": "read"} if collection == "who-can" else {name: value}

        response = admin_api.get(f"{collection}?{urlencode(query)}")

        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"][0]["pointer"] == f"#/{name}"
