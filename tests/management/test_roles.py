"""/api/v2/roles: roles and their permissions, with the dashboard's services and effects."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from accounts.models import AuditEntry
from apis.services import api_update
from authz.models import Role
from authz.services import role_assign, role_create, role_set_permissions
from tests.oauth import TIMESHEETS_API, Pkce, exchange, get_code

from .conftest import ALL_SCOPES, ManagementCaller

PROBLEM = "application/problem+json"


def _permission(value: str, api: str = TIMESHEETS_API) -> dict[str, str]:
    return {"resource_server_identifier": api, "permission_name": value}


@pytest.fixture
def approver(timesheets_api) -> Role:
    role = role_create(actor=None, name="Approver", description="Approves timesheets")
    role_set_permissions(
        actor=None, role=role, permissions=timesheets_api.scopes.filter(value="approve:timesheets")
    )
    return role


def call(caller: ManagementCaller, method: str, path: str):
    """``method`` on ``path``, with an empty JSON object as the body of a write."""
    if method in ("GET", "DELETE"):
        return caller.get(path) if method == "GET" else caller.delete(path)
    return caller.send(method, path, {})


OPERATIONS = [
    ("GET", "roles", "read:roles"),
    ("POST", "roles", "create:roles"),
    ("GET", "roles/{id}", "read:roles"),
    ("PATCH", "roles/{id}", "update:roles"),
    ("DELETE", "roles/{id}", "delete:roles"),
    ("GET", "roles/{id}/permissions", "read:roles"),
    ("PUT", "roles/{id}/permissions", "update:roles"),
    ("GET", "roles/{id}/users", "read:roles"),
    ("POST", "roles/{id}/users", "update:roles"),
    ("DELETE", "roles/{id}/users/00000000-0000-0000-0000-000000000000", "update:roles"),
    ("GET", "who-can?resource_server_identifier=x&permission_name=y", "read:roles"),
]


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_each_operation_needs_its_scope(machine_token, approver, method, path, scope):
    caller = machine_token(*(other for other in ALL_SCOPES if other != scope))

    response = call(caller, method, path.format(id=approver.pk))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert f'error="insufficient_scope", scope="{scope}"' in response["WWW-Authenticate"]
    assert response.json()["code"] == "insufficient_scope"
    assert Role.objects.filter(pk=approver.pk, name="Approver").exists()


def test_create_read_list_and_the_audit_names_the_client(admin_api):
    created = admin_api.post("roles", {"name": "Auditor", "description": "Reads the logs"})

    assert created.status_code == HTTPStatus.CREATED, created.content
    body = created.json()
    assert body == {"id": body["id"], "name": "Auditor", "description": "Reads the logs"}
    read = admin_api.get(f"roles/{body['id']}")
    assert read.json() == body
    assert read["ETag"] == created["ETag"]
    assert body in admin_api.get("roles").json()["results"]
    entry = AuditEntry.objects.get(action="role.create")
    assert entry.actor_label == f"client:{admin_api.client_id}"


def test_the_list_filters_by_name_and_pages(admin_api):
    for name in ("Alpha", "Beta", "Alphabet"):
        role_create(actor=None, name=name)

    filtered = admin_api.get("roles?name_filter=ALPHA").json()
    first = admin_api.get("roles?page_size=2").json()
    second = HttpClient().get(first["next"], HTTP_AUTHORIZATION=f"Bearer {admin_api.token}").json()

    assert [role["name"] for role in filtered["results"]] == ["Alpha", "Alphabet"]
    assert len(first["results"]) == 2
    assert [role["name"] for role in first["results"] + second["results"]] == ["Alpha", "Beta", "Alphabet"]


def test_a_duplicate_name_is_a_conflict_and_a_blank_one_is_400(admin_api, approver):
    duplicate = admin_api.post("roles", {"name": "Approver"})
    blank = admin_api.post("roles", {"name": "   "})
    unknown = admin_api.post("roles", {"name": "X", "permissions": []})

    assert duplicate.status_code == HTTPStatus.CONFLICT
    assert duplicate["Content-Type"] == PROBLEM
    assert duplicate.json()["errors"][0]["pointer"] == "#/name"
    assert blank.status_code == HTTPStatus.BAD_REQUEST
    assert blank.json()["errors"][0]["pointer"] == "#/name"
    assert {"pointer": "#/permissions", "detail": "This field is not known."} in unknown.json()["errors"]
    assert Role.objects.count() == 1


def test_the_same_idempotency_key_creates_once(admin_api):
    first = admin_api.post("roles", {"name": "Payroll"}, **{"Idempotency-Key": "payroll-role"})
    again = admin_api.post("roles", {"name": "Payroll"}, **{"Idempotency-Key": "payroll-role"})

    assert first.status_code == again.status_code == HTTPStatus.CREATED
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Role.objects.filter(name="Payroll").count() == 1


def test_update_keeps_what_is_not_sent_and_refuses_a_stale_etag(admin_api, approver):
    etag = admin_api.get(f"roles/{approver.pk}")["ETag"]

    updated = admin_api.patch(f"roles/{approver.pk}", {"name": "Timesheet approver"}, **{"If-Match": etag})
    stale = admin_api.patch(f"roles/{approver.pk}", {"description": "Other"}, **{"If-Match": etag})

    assert updated.status_code == HTTPStatus.OK
    assert updated.json()["description"] == "Approves timesheets"
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    approver.refresh_from_db()
    assert (approver.name, approver.description) == ("Timesheet approver", "Approves timesheets")
    assert AuditEntry.objects.filter(action="role.update").count() == 1


def test_missing_roles_are_404(admin_api):
    for response in (
        admin_api.get("roles/999"),
        admin_api.patch("roles/999", {"name": "X"}),
        admin_api.delete("roles/999"),
        admin_api.get("roles/999/permissions"),
        admin_api.put("roles/999/permissions", {"permissions": []}),
    ):
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response["Content-Type"] == PROBLEM


def test_permissions_are_read_and_replaced_whole(admin_api, approver, timesheets_api):
    read = admin_api.get(f"roles/{approver.pk}/permissions")
    assert read.json() == {"permissions": [_permission("approve:timesheets")]}

    wanted = [
        _permission("read:timesheets"),
        _permission("create:timesheets"),
        _permission("read:timesheets"),
    ]
    replaced = admin_api.put(
        f"roles/{approver.pk}/permissions", {"permissions": wanted}, **{"If-Match": read["ETag"]}
    )

    assert replaced.status_code == HTTPStatus.OK, replaced.content
    assert replaced.json() == {
        "permissions": [_permission("create:timesheets"), _permission("read:timesheets")]
    }
    assert replaced["ETag"] == admin_api.get(f"roles/{approver.pk}/permissions")["ETag"]
    assert set(approver.permissions.values_list("value", flat=True)) == {
        "read:timesheets",
        "create:timesheets",
    }
    entry = AuditEntry.objects.filter(action="role.permissions").latest("pk")
    assert entry.actor_label == f"client:{admin_api.client_id}"
    stale = admin_api.put(
        f"roles/{approver.pk}/permissions", {"permissions": []}, **{"If-Match": read["ETag"]}
    )
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert approver.permissions.count() == 2


def test_an_unknown_permission_is_404_on_its_item_and_nothing_changes(admin_api, approver, timesheets_api):
    wanted = [
        _permission("read:timesheets"),
        _permission("fly:planes"),
        _permission("read:x", "https://nope/"),
    ]

    response = admin_api.put(f"roles/{approver.pk}/permissions", {"permissions": wanted})

    assert response.status_code == HTTPStatus.NOT_FOUND
    pointers = [error["pointer"] for error in response.json()["errors"]]
    assert pointers == ["#/permissions/1/permission_name", "#/permissions/2/permission_name"]
    assert list(approver.permissions.values_list("value", flat=True)) == ["approve:timesheets"]


def test_a_permission_item_with_an_unknown_field_is_400(admin_api, approver):
    item = {**_permission("read:timesheets"), "description": "x"}

    response = admin_api.put(f"roles/{approver.pk}/permissions", {"permissions": [item]})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["pointer"] == "#/permissions/0/description"


def test_delete_is_204_then_404(admin_api, approver):
    assert admin_api.delete(f"roles/{approver.pk}").status_code == HTTPStatus.NO_CONTENT
    assert admin_api.get(f"roles/{approver.pk}").status_code == HTTPStatus.NOT_FOUND
    assert AuditEntry.objects.get(action="role.delete").actor_label == f"client:{admin_api.client_id}"


# --- What a person's tokens see --------------------------------------------------------------

SCOPE = "openid offline_access read:timesheets"


@pytest.fixture
def reader(user, timesheets_api) -> Role:
    api_update(api=timesheets_api, rbac_enabled=True)
    role = role_create(actor=None, name="Reader")
    role_set_permissions(
        actor=None, role=role, permissions=timesheets_api.scopes.filter(value="read:timesheets")
    )
    role_assign(actor=None, role=role, user=user)
    return role


def _signed_in(user_client, public_client) -> str:
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API)
    tokens = exchange(user_client, public_client.client_id, code, pkce.verifier).json()
    assert "read:timesheets" in tokens["scope"].split()
    return tokens["access_token"]


def _api(token: str) -> int:
    return HttpClient().get("/test-api/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


@pytest.mark.urls("tests.apis.urls")
def test_taking_a_permission_away_ends_the_holders_earlier_tokens(
    admin_api, reader, user_client, public_client
):
    token = _signed_in(user_client, public_client)
    assert _api(token) == HTTPStatus.OK

    kept = admin_api.put(f"roles/{reader.pk}/permissions", {"permissions": [_permission("read:timesheets")]})
    assert kept.status_code == HTTPStatus.OK
    assert _api(token) == HTTPStatus.OK  # nothing lost, nothing ended

    emptied = admin_api.put(f"roles/{reader.pk}/permissions", {"permissions": []})
    assert emptied.status_code == HTTPStatus.OK
    assert _api(token) == HTTPStatus.UNAUTHORIZED


@pytest.mark.urls("tests.apis.urls")
def test_deleting_a_role_ends_its_holders_earlier_tokens(admin_api, reader, user_client, public_client):
    token = _signed_in(user_client, public_client)

    assert admin_api.delete(f"roles/{reader.pk}").status_code == HTTPStatus.NO_CONTENT

    assert _api(token) == HTTPStatus.UNAUTHORIZED
