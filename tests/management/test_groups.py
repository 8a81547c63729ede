"""/api/v2/groups: groups, members, roles and nesting, with the dashboard's services and effects."""

from __future__ import annotations

import uuid
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from accounts.models import AuditEntry, User
from apis.services import api_update
from authz.models import Group, GroupNesting, Role
from authz.services import (
    group_add_member,
    group_add_role,
    group_create,
    group_nest,
    role_create,
    role_set_permissions,
)
from tests.oauth import TIMESHEETS_API, Pkce, exchange, get_code

from .conftest import ALL_SCOPES
from .test_roles import call

PROBLEM = "application/problem+json"
ZERO = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def managers(db) -> Group:
    return group_create(actor=None, name="Managers", description="Everyone who manages a team")


OPERATIONS = [
    ("GET", "groups", "read:groups"),
    ("POST", "groups", "create:groups"),
    ("GET", "groups/{id}", "read:groups"),
    ("PATCH", "groups/{id}", "update:groups"),
    ("DELETE", "groups/{id}", "delete:groups"),
    ("GET", "groups/{id}/members", "read:groups"),
    ("POST", "groups/{id}/members", "update:groups"),
    ("DELETE", f"groups/{{id}}/members/{ZERO}", "update:groups"),
    ("GET", "groups/{id}/all-members", "read:groups"),
    ("GET", "groups/{id}/roles", "read:groups"),
    ("POST", "groups/{id}/roles", "update:groups"),
    ("DELETE", "groups/{id}/roles/1", "update:groups"),
    ("GET", "groups/{id}/children", "read:groups"),
    ("POST", "groups/{id}/children", "update:groups"),
    ("DELETE", "groups/{id}/children/1", "update:groups"),
]


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_each_operation_needs_its_scope(machine_token, managers, method, path, scope):
    caller = machine_token(*(other for other in ALL_SCOPES if other != scope))

    response = call(caller, method, path.format(id=managers.pk))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert f'error="insufficient_scope", scope="{scope}"' in response["WWW-Authenticate"]
    assert Group.objects.filter(pk=managers.pk).exists()


def test_create_read_update_delete(admin_api):
    created = admin_api.post("groups", {"name": "Finance"}, **{"Idempotency-Key": "finance"})
    again = admin_api.post("groups", {"name": "Finance"}, **{"Idempotency-Key": "finance"})

    assert created.status_code == again.status_code == HTTPStatus.CREATED
    group = created.json()
    assert group == {"id": group["id"], "name": "Finance", "description": ""} == again.json()
    assert Group.objects.count() == 1
    read = admin_api.get(f"groups/{group['id']}")
    assert read["ETag"] == created["ETag"]
    updated = admin_api.patch(f"groups/{group['id']}", {"description": "Pays"}, **{"If-Match": read["ETag"]})
    assert updated.json() == {**group, "description": "Pays"}
    stale = admin_api.patch(f"groups/{group['id']}", {"name": "Money"}, **{"If-Match": read["ETag"]})
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert admin_api.delete(f"groups/{group['id']}").status_code == HTTPStatus.NO_CONTENT
    assert admin_api.get(f"groups/{group['id']}").status_code == HTTPStatus.NOT_FOUND
    actions = AuditEntry.objects.filter(
        actor_label=f"client:{admin_api.client_id}", action__startswith="group."
    ).values_list("action", flat=True)
    assert sorted(actions) == ["group.create", "group.delete", "group.update"]


def test_list_filter_and_conflicts(admin_api, managers):
    group_create(actor=None, name="Team leads")

    listed = admin_api.get("groups?name_filter=lead").json()["results"]
    duplicate = admin_api.post("groups", {"name": "Managers"})
    renamed = admin_api.patch(f"groups/{managers.pk}", {"name": "Team leads"})
    unknown = admin_api.post("groups", {"name": "X", "members": []})

    assert [group["name"] for group in listed] == ["Team leads"]
    assert duplicate.status_code == renamed.status_code == HTTPStatus.CONFLICT
    assert duplicate.json()["errors"][0]["pointer"] == "#/name"
    assert unknown.status_code == HTTPStatus.BAD_REQUEST
    assert Group.objects.get(pk=managers.pk).name == "Managers"


def test_members_are_added_listed_and_removed(admin_api, managers, user):
    bob = User.objects.create_user(email="bob@abcinc.example", name="Bob")

    added = admin_api.post(f"groups/{managers.pk}/members", {"user_ids": [str(bob.sub), str(user.sub)]})
    listed = admin_api.get(f"groups/{managers.pk}/members").json()["results"]
    removed = admin_api.delete(f"groups/{managers.pk}/members/{bob.sub}")
    again = admin_api.delete(f"groups/{managers.pk}/members/{bob.sub}")

    assert added.status_code == removed.status_code == HTTPStatus.NO_CONTENT
    assert listed == [
        {"user_id": str(user.sub), "email": user.email, "name": user.name},
        {"user_id": str(bob.sub), "email": bob.email, "name": "Bob"},
    ]
    assert again.status_code == HTTPStatus.NOT_FOUND
    assert list(managers.members.all()) == [user]
    entries = AuditEntry.objects.filter(
        actor_label=f"client:{admin_api.client_id}", action__startswith="group."
    )
    assert sorted(entries.values_list("action", flat=True)) == ["group.add_member"] * 2 + [
        "group.remove_member"
    ]


def test_all_members_include_nested_groups_with_their_paths(admin_api, managers, user):
    leads, shift = group_create(actor=None, name="Team leads"), group_create(actor=None, name="Shift leads")
    group_nest(actor=None, parent=managers, child=leads)
    group_nest(actor=None, parent=leads, child=shift)
    group_nest(actor=None, parent=managers, child=shift)
    bob = User.objects.create_user(email="bob@abcinc.example", name="Bob")
    group_add_member(actor=None, group=managers, user=user)
    group_add_member(actor=None, group=shift, user=bob)

    response = admin_api.get(f"groups/{managers.pk}/all-members")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["results"] == [
        {"user_id": str(user.sub), "email": user.email, "name": user.name, "paths": [["Managers"]]},
        {
            "user_id": str(bob.sub),
            "email": bob.email,
            "name": "Bob",
            "paths": [["Shift leads", "Managers"]],  # the shortest way, as the dashboard shows it
        },
    ]
    assert admin_api.get(f"groups/{leads.pk}/all-members").json()["results"][0]["paths"] == [
        ["Shift leads", "Team leads"]
    ]
    assert admin_api.get("groups/999/all-members").status_code == HTTPStatus.NOT_FOUND


def test_unknown_members_are_400_and_nobody_is_added(admin_api, managers, user):
    response = admin_api.post(
        f"groups/{managers.pk}/members", {"user_ids": [str(user.sub), str(uuid.uuid4())]}
    )
    empty = admin_api.post(f"groups/{managers.pk}/members", {"user_ids": []})
    not_uuid = admin_api.post(f"groups/{managers.pk}/members", {"user_ids": ["alice"]})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert [error["pointer"] for error in response.json()["errors"]] == ["#/user_ids/1"]
    assert empty.status_code == not_uuid.status_code == HTTPStatus.BAD_REQUEST
    assert not managers.members.exists()


def test_roles_are_added_listed_and_removed(admin_api, managers):
    approver, payroll = role_create(actor=None, name="Approver"), role_create(actor=None, name="Payroll")

    added = admin_api.post(f"groups/{managers.pk}/roles", {"role_ids": [approver.pk, payroll.pk]})
    listed = admin_api.get(f"groups/{managers.pk}/roles").json()["results"]
    removed = admin_api.delete(f"groups/{managers.pk}/roles/{payroll.pk}")
    again = admin_api.delete(f"groups/{managers.pk}/roles/{payroll.pk}")
    unknown = admin_api.post(f"groups/{managers.pk}/roles", {"role_ids": [payroll.pk, 999]})

    assert added.status_code == removed.status_code == HTTPStatus.NO_CONTENT
    assert [role["name"] for role in listed] == ["Approver", "Payroll"]
    assert again.status_code == HTTPStatus.NOT_FOUND
    assert unknown.status_code == HTTPStatus.NOT_FOUND
    assert unknown.json()["errors"][0]["pointer"] == "#/role_ids/1"
    assert list(managers.roles.all()) == [approver]
    assert AuditEntry.objects.get(action="group.remove_role").actor_label == f"client:{admin_api.client_id}"


def test_groups_nest_and_come_out(admin_api, managers):
    leads, shift = group_create(actor=None, name="Team leads"), group_create(actor=None, name="Shift leads")

    nested = admin_api.post(f"groups/{managers.pk}/children", {"group_ids": [leads.pk, shift.pk]})
    listed = admin_api.get(f"groups/{managers.pk}/children").json()["results"]
    out = admin_api.delete(f"groups/{managers.pk}/children/{shift.pk}")
    again = admin_api.delete(f"groups/{managers.pk}/children/{shift.pk}")

    assert nested.status_code == out.status_code == HTTPStatus.NO_CONTENT
    assert [group["name"] for group in listed] == ["Team leads", "Shift leads"]
    assert again.status_code == HTTPStatus.NOT_FOUND
    assert list(managers.subgroups.all()) == [leads]
    assert AuditEntry.objects.get(action="group.unnest").actor_label == f"client:{admin_api.client_id}"


def test_a_cycle_is_409_and_nothing_of_the_request_is_nested(admin_api, managers):
    leads, shift, other = (
        group_create(actor=None, name=name) for name in ("Team leads", "Shift leads", "Other")
    )
    group_nest(actor=None, parent=managers, child=leads)
    group_nest(actor=None, parent=leads, child=shift)

    cycle = admin_api.post(f"groups/{shift.pk}/children", {"group_ids": [other.pk, managers.pk]})
    itself = admin_api.post(f"groups/{managers.pk}/children", {"group_ids": [managers.pk]})

    assert cycle.status_code == itself.status_code == HTTPStatus.CONFLICT
    assert cycle["Content-Type"] == PROBLEM
    assert "cycle" in cycle.json()["detail"]
    assert cycle.json()["errors"][0]["pointer"] == "#/group_ids/1"
    assert "cannot contain itself" in itself.json()["detail"]
    assert not GroupNesting.objects.filter(parent=shift).exists()


def test_missing_groups_are_404(admin_api, managers, user):
    for response in (
        admin_api.get("groups/999"),
        admin_api.patch("groups/999", {"name": "X"}),
        admin_api.delete("groups/999"),
        admin_api.get("groups/999/members"),
        admin_api.post("groups/999/members", {"user_ids": [str(user.sub)]}),
        admin_api.get("groups/999/roles"),
        admin_api.get("groups/999/children"),
        admin_api.post("groups/999/children", {"group_ids": [managers.pk]}),
    ):
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response["Content-Type"] == PROBLEM


# --- What a person's tokens see --------------------------------------------------------------

SCOPE = "openid offline_access read:timesheets"


@pytest.fixture
def readers(user, timesheets_api) -> Group:
    """The person reads timesheets through Readers ⊃ Team (their own group)."""
    api_update(api=timesheets_api, rbac_enabled=True)
    role = role_create(actor=None, name="Reader")
    role_set_permissions(
        actor=None, role=role, permissions=timesheets_api.scopes.filter(value="read:timesheets")
    )
    readers, team = group_create(actor=None, name="Readers"), group_create(actor=None, name="Team")
    group_add_role(actor=None, group=readers, role=role)
    group_nest(actor=None, parent=readers, child=team)
    group_add_member(actor=None, group=team, user=user)
    return readers


def _signed_in(user_client, public_client) -> str:
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API)
    tokens = exchange(user_client, public_client.client_id, code, pkce.verifier).json()
    assert "read:timesheets" in tokens["scope"].split()
    return tokens["access_token"]


def _api(token: str) -> int:
    return HttpClient().get("/test-api/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def _team(readers: Group) -> Group:
    return readers.subgroups.get()


def _reader(readers: Group) -> Role:
    return readers.roles.get()


LOSSES = {
    "member removed": lambda readers, user: f"groups/{_team(readers).pk}/members/{user.sub}",
    "role removed from the group": lambda readers, user: f"groups/{readers.pk}/roles/{_reader(readers).pk}",
    "group taken out of its parent": lambda readers, user: (
        f"groups/{readers.pk}/children/{_team(readers).pk}"
    ),
    "group deleted": lambda readers, user: f"groups/{readers.pk}",
}


@pytest.mark.urls("tests.apis.urls")
@pytest.mark.parametrize("loss", LOSSES)
def test_losing_a_permission_through_a_group_ends_earlier_tokens(
    admin_api, readers, user, user_client, public_client, loss
):
    token = _signed_in(user_client, public_client)
    assert _api(token) == HTTPStatus.OK

    assert admin_api.delete(LOSSES[loss](readers, user)).status_code == HTTPStatus.NO_CONTENT

    assert _api(token) == HTTPStatus.UNAUTHORIZED


@pytest.mark.urls("tests.apis.urls")
def test_a_change_that_takes_nothing_away_leaves_tokens_alone(
    admin_api, readers, user, user_client, public_client
):
    token = _signed_in(user_client, public_client)
    other = group_create(actor=None, name="Other")

    assert (
        admin_api.post(f"groups/{other.pk}/members", {"user_ids": [str(user.sub)]}).status_code
        == HTTPStatus.NO_CONTENT
    )
    assert admin_api.delete(f"groups/{other.pk}/members/{user.sub}").status_code == HTTPStatus.NO_CONTENT

    assert _api(token) == HTTPStatus.OK
