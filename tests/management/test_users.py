"""The Management API's users: list and filters, read, invite, profile update, block and
unblock, delete; the scope of every user operation."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.core import mail
from django.test import Client as HttpClient

from accounts.models import AuditEntry, User
from accounts.services import invitation_revoke, user_deactivate, user_delete
from authz.models import Group
from authz.services import (
    group_add_member,
    group_add_role,
    group_create,
    group_nest,
    role_assign,
    role_create,
)
from tests.oauth import Pkce, exchange, get_code

PROBLEM = "application/problem+json"
NINA = {"email": "nina@abcinc.example", "name": "Nina New", "worker_type": "contractor"}


def _invited(email: str, **fields: Any) -> User:
    person = User.objects.create_user(email=email, password=None, invited_at=None, **fields)
    return person


def _emails(body: dict) -> list[str]:
    return [person["email"] for person in body["results"]]


def _audit(action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


# --- List and read ------------------------------------------------------------------------------


def test_the_list_is_a_cursor_page_of_people_by_email_without_tombstones(admin_api, user, staff_user):
    gone = User.objects.create_user(email="gone@abcinc.example", password="x")
    user_delete(actor=None, user=gone)

    first = admin_api.get("users?page_size=1")

    assert first.status_code == HTTPStatus.OK
    body = first.json()
    assert set(body) == {"next", "previous", "results"}
    assert _emails(body) == ["admin@abcinc.example"]
    second = admin_api.http.get(body["next"], HTTP_AUTHORIZATION=f"Bearer {admin_api.token}").json()
    assert _emails(second) == ["alice@abcinc.example"] and second["next"] is None
    person = second["results"][0]
    assert person["user_id"] == str(user.sub)
    assert person["status"] == "active" and person["staff_role"] is None
    assert "password" not in person and "id" not in person


def test_the_list_filters_by_status_as_the_dashboard_does(admin_api, user):
    invited = _invited("ivan@abcinc.example")
    blocked = User.objects.create_user(email="bob@abcinc.example", password="x")
    user_deactivate(actor=None, user=blocked)
    gone = User.objects.create_user(email="gone@abcinc.example", password="x")
    user_delete(actor=None, user=gone)

    def listed(status: str) -> list[str]:
        return _emails(admin_api.get(f"users?status={status}").json())

    assert listed("active") == ["alice@abcinc.example"]
    assert listed("invited") == [invited.email]
    assert listed("blocked") == [blocked.email]
    assert listed("deleted") == [f"deleted-{gone.sub}@deleted.invalid"]
    assert admin_api.get("users?status=deleted").json()["results"][0]["former_email"] == "gone@abcinc.example"
    refused = admin_api.get("users?status=gone")
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused["Content-Type"] == PROBLEM
    assert refused.json()["errors"][0]["pointer"] == "#/status"


def test_the_list_searches_email_and_name_in_any_case(admin_api, user):
    User.objects.create_user(email="bob@abcinc.example", name="Bob Builder")

    assert _emails(admin_api.get("users?search=ANDERS").json()) == ["alice@abcinc.example"]
    assert _emails(admin_api.get("users?search=BOB@").json()) == ["bob@abcinc.example"]
    assert _emails(admin_api.get("users?search=nobody").json()) == []


def test_the_role_and_group_filters_count_what_comes_through_nested_groups(admin_api, user):
    direct = User.objects.create_user(email="dora@abcinc.example")
    nested = User.objects.create_user(email="nora@abcinc.example")
    User.objects.create_user(email="olga@abcinc.example")  # neither
    approver = role_create(actor=None, name="Approver")
    staff, leads = group_create(actor=None, name="All Staff"), group_create(actor=None, name="Leads")
    group_nest(actor=None, parent=staff, child=leads)
    group_add_role(actor=None, group=staff, role=approver)
    role_assign(actor=None, role=approver, user=direct)
    group_add_member(actor=None, group=leads, user=nested)

    assert _emails(admin_api.get(f"users?role={approver.pk}").json()) == [direct.email, nested.email]
    assert _emails(admin_api.get(f"users?group={staff.pk}").json()) == [nested.email]
    assert _emails(admin_api.get(f"users?group={leads.pk}&role={approver.pk}").json()) == [nested.email]
    assert _emails(admin_api.get("users?role=999999").json()) == []


def test_a_person_is_read_by_user_id_with_an_etag(admin_api, user, staff_user):
    user.manager = staff_user
    user.save()

    response = admin_api.get(f"users/{user.sub}")

    assert response.status_code == HTTPStatus.OK
    assert response["ETag"].startswith('"')
    body = response.json()
    assert body["email"] == "alice@abcinc.example" and body["name"] == "Alice Anders"
    assert body["manager"] == str(staff_user.sub)
    assert body["picture"] == "https://abcinc.example/people/alice.png"
    assert admin_api.get(f"users/{staff_user.sub}").json()["staff_role"] == "admin"


def test_an_unknown_user_id_is_404(admin_api):
    response = admin_api.get("users/00000000-0000-4000-8000-000000000000")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == PROBLEM


# --- Invite -------------------------------------------------------------------------------------


def test_create_invites_by_email_into_groups_and_names_the_client(
    admin_api, staff_user, django_capture_on_commit_callbacks
):
    group = group_create(actor=None, name="Contractors")
    body = {**NINA, "manager": str(staff_user.sub), "group_ids": [group.pk]}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("users", body)

    assert response.status_code == HTTPStatus.CREATED, response.content
    person = User.objects.get(email="nina@abcinc.example")
    created = response.json()
    assert created["user_id"] == str(person.sub) and created["status"] == "invited"
    assert created["manager"] == str(staff_user.sub) and created["invited_at"] is not None
    assert response["Location"] == f"http://testserver/api/v2/users/{person.sub}"
    assert admin_api.get(f"users/{person.sub}")["ETag"] == response["ETag"]
    assert list(person.authz_groups.all()) == [group]
    [message] = mail.outbox
    assert message.to == ["nina@abcinc.example"] and "/invitation/" in message.body
    entry = _audit("user.invite")
    assert entry.actor is None and entry.actor_label == f"client:{admin_api.client_id}"


def test_an_address_in_use_is_a_conflict_and_nothing_is_sent(admin_api, user):
    response = admin_api.post("users", {**NINA, "email": "ALICE@abcinc.example"})

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["pointer"] == "#/email"
    assert User.objects.count() == 1 and mail.outbox == []


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("email", "not-an-address", HTTPStatus.BAD_REQUEST),
        ("worker_type", "intern", HTTPStatus.BAD_REQUEST),
        ("group_ids", [999999], HTTPStatus.NOT_FOUND),  # a name of nothing
        ("manager", "00000000-0000-4000-8000-000000000000", HTTPStatus.NOT_FOUND),
        ("nickname", "x", HTTPStatus.BAD_REQUEST),  # not a field of an invitation
    ],
)
def test_bad_invitations_are_refused_on_their_field_and_create_nobody(admin_api, field, value, status):
    response = admin_api.post("users", {**NINA, field: value})

    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"][0]["pointer"] in (f"#/{field}", f"#/{field}/0")
    assert not User.objects.filter(email=NINA["email"]).exists() and mail.outbox == []


def test_a_deleted_person_cannot_be_a_manager(admin_api):
    gone = User.objects.create_user(email="gone@abcinc.example", password="x")
    user_delete(actor=None, user=gone)

    response = admin_api.post("users", {**NINA, "manager": str(gone.sub)})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["errors"][0]["pointer"] == "#/manager"


def test_an_invitation_replayed_with_its_idempotency_key_invites_once(
    admin_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = admin_api.post("users", NINA, **{"Idempotency-Key": "invite-nina"})
        again = admin_api.post("users", NINA, **{"Idempotency-Key": "invite-nina"})

    assert first.status_code == again.status_code == HTTPStatus.CREATED
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert User.objects.filter(email=NINA["email"]).count() == 1 and len(mail.outbox) == 1


# --- Update -------------------------------------------------------------------------------------


def test_update_changes_only_the_fields_sent(admin_api, user, staff_user):
    response = admin_api.patch(f"users/{user.sub}", {"nickname": "ali", "manager": str(staff_user.sub)})

    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert body["nickname"] == "ali" and body["manager"] == str(staff_user.sub)
    assert body["name"] == "Alice Anders" and body["worker_type"] == "employee"
    assert response["ETag"] == admin_api.get(f"users/{user.sub}")["ETag"]
    entry = _audit("user.update")
    assert entry.actor_label == f"client:{admin_api.client_id}"
    assert entry.after is not None and entry.after["nickname"] == "ali"
    cleared = admin_api.patch(f"users/{user.sub}", {"manager": None, "picture": ""}).json()
    assert cleared["manager"] is None and cleared["picture"] is None


def test_a_stale_if_match_is_412_and_changes_nothing(admin_api, user):
    stale = admin_api.get(f"users/{user.sub}")["ETag"]
    assert (
        admin_api.patch(f"users/{user.sub}", {"name": "Alice A."}, **{"If-Match": stale}).status_code == 200
    )

    refused = admin_api.patch(f"users/{user.sub}", {"name": "Alice B."}, **{"If-Match": stale})

    assert refused.status_code == HTTPStatus.PRECONDITION_FAILED
    user.refresh_from_db()
    assert user.name == "Alice A."


def test_a_reporting_loop_is_refused_on_the_manager_field(admin_api, user, staff_user):
    staff_user.manager = user
    staff_user.save()

    looped = admin_api.patch(f"users/{user.sub}", {"manager": str(staff_user.sub)})
    own = admin_api.patch(f"users/{user.sub}", {"manager": str(user.sub)})

    for response in (looped, own):
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"][0]["pointer"] == "#/manager"
    user.refresh_from_db()
    assert user.manager is None


def test_update_refuses_unknown_fields_and_what_it_does_not_edit(admin_api, user):
    for field, value in [("email", "x@abcinc.example"), ("staff_role", "admin"), ("blocked", True)]:
        response = admin_api.patch(f"users/{user.sub}", {field: value})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == [{"pointer": f"#/{field}", "detail": "This field is not known."}]
    user.refresh_from_db()
    assert user.email == "alice@abcinc.example" and not user.is_staff and user.is_active


def test_a_tombstone_is_read_but_never_changed(admin_api, user):
    user_delete(actor=None, user=user)

    assert admin_api.get(f"users/{user.sub}").json()["status"] == "deleted"
    for response in (
        admin_api.patch(f"users/{user.sub}", {"name": "Back"}),
        admin_api.post(f"users/{user.sub}/unblock"),
        admin_api.post(f"users/{user.sub}/block"),
        admin_api.delete(f"users/{user.sub}"),
    ):
        assert response.status_code == HTTPStatus.CONFLICT, response.content
        assert "deleted" in response.json()["detail"]
    user.refresh_from_db()
    assert user.name == "Alice Anders" and not user.is_active


# --- Block, unblock, delete ---------------------------------------------------------------------


def _sign_in_to_app(http: HttpClient, client_id: str, api) -> dict:
    """The authorization code flow with offline access; the token response."""
    pkce = Pkce.new()
    code = get_code(
        http, client_id, pkce, scope="openid offline_access read:timesheets", audience=api.identifier
    )
    response = exchange(http, client_id, code, pkce.verifier)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _refresh(client_id: str, refresh_token: str):
    return HttpClient().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
    )


def _timesheets(access_token: str):
    return HttpClient().get("/api/timesheets", HTTP_AUTHORIZATION=f"Bearer {access_token}")


def test_block_signs_out_everywhere_and_the_tokens_stop_working(
    admin_api, user, user_client, public_client, timesheets_api
):
    tokens = _sign_in_to_app(user_client, public_client.client_id, timesheets_api)
    assert _timesheets(tokens["access_token"]).status_code == HTTPStatus.OK

    response = admin_api.post(f"users/{user.sub}/block")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "blocked"
    assert _timesheets(tokens["access_token"]).status_code == HTTPStatus.UNAUTHORIZED
    assert _refresh(public_client.client_id, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert user_client.get("/account/")["Location"].startswith("/login/")
    entry = _audit("user.deactivate")
    assert entry.actor_label == f"client:{admin_api.client_id}"
    assert entry.after == {"is_active": False, "sessions_ended": 1, "grants_revoked": 1}
    assert admin_api.post(f"users/{user.sub}/block").status_code == HTTPStatus.OK  # already blocked


def test_unblock_lets_them_sign_in_again(admin_api, user, password):
    user_deactivate(actor=None, user=user)

    response = admin_api.post(f"users/{user.sub}/unblock")

    assert response.status_code == HTTPStatus.OK and response.json()["status"] == "active"
    signed_in = HttpClient().post("/login/", {"username": user.email, "password": password})
    assert signed_in.status_code == HTTPStatus.FOUND
    assert _audit("user.reactivate").actor_label == f"client:{admin_api.client_id}"


def test_the_last_administrator_is_neither_blocked_nor_deleted(admin_api, staff_user):
    for response in (
        admin_api.post(f"users/{staff_user.sub}/block"),
        admin_api.delete(f"users/{staff_user.sub}"),
    ):
        assert response.status_code == HTTPStatus.CONFLICT
        assert "last administrator" in response.json()["detail"]
    staff_user.refresh_from_db()
    assert staff_user.is_active and staff_user.deleted_at is None

    User.objects.create_user(email="second@abcinc.example", is_staff=True)
    assert admin_api.post(f"users/{staff_user.sub}/block").status_code == HTTPStatus.OK


def test_delete_leaves_a_tombstone_and_takes_every_access(
    admin_api, user, user_client, public_client, timesheets_api
):
    tokens = _sign_in_to_app(user_client, public_client.client_id, timesheets_api)
    role_assign(actor=None, role=role_create(actor=None, name="Approver"), user=user)
    group_add_member(actor=None, group=group_create(actor=None, name="Team"), user=user)

    response = admin_api.delete(f"users/{user.sub}")

    assert response.status_code == HTTPStatus.NO_CONTENT
    body = admin_api.get(f"users/{user.sub}").json()
    assert body["status"] == "deleted" and body["former_email"] == "alice@abcinc.example"
    assert _timesheets(tokens["access_token"]).status_code == HTTPStatus.UNAUTHORIZED
    assert _refresh(public_client.client_id, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert user_client.get("/account/")["Location"].startswith("/login/")
    assert admin_api.get(f"users/{user.sub}/roles").json() == []
    assert not Group.objects.filter(members=user).exists()
    entry = _audit("user.delete")
    assert entry.actor_label == f"client:{admin_api.client_id}" and entry.after is not None
    assert entry.after["grants_revoked"] == 1
    assert (
        admin_api.post("users", {**NINA, "email": "alice@abcinc.example"}).status_code == HTTPStatus.CREATED
    )


def test_an_invited_person_without_a_pending_invitation_is_listed_as_invited(admin_api):
    person = _invited("ivan@abcinc.example")
    person.invited_at = person.date_joined
    person.save()
    invitation_revoke(actor=None, user=person)

    body = admin_api.get(f"users/{person.sub}").json()

    assert body["status"] == "invited" and body["invited_at"] is None


# --- Scopes -------------------------------------------------------------------------------------

SOME_ID = "00000000-0000-4000-8000-000000000000"
OPERATIONS = [
    ("GET", "users", None, "read:users"),
    ("POST", "users", NINA, "create:users"),
    ("GET", f"users/{SOME_ID}", None, "read:users"),
    ("PATCH", f"users/{SOME_ID}", {"name": "X"}, "update:users"),
    ("DELETE", f"users/{SOME_ID}", None, "delete:users"),
    ("POST", f"users/{SOME_ID}/block", None, "update:users"),
    ("POST", f"users/{SOME_ID}/unblock", None, "update:users"),
    ("GET", f"users/{SOME_ID}/roles", None, "read:users"),
    ("POST", f"users/{SOME_ID}/roles", {"role_ids": [1]}, "update:users"),
    ("DELETE", f"users/{SOME_ID}/roles/1", None, "update:users"),
    ("GET", f"users/{SOME_ID}/groups", None, "read:users"),
    ("POST", f"users/{SOME_ID}/groups", {"group_ids": [1]}, "update:users"),
    ("DELETE", f"users/{SOME_ID}/groups/1", None, "update:users"),
    ("GET", f"users/{SOME_ID}/permissions", None, "read:users"),
    ("GET", f"users/{SOME_ID}/sessions", None, "read:users"),
    ("DELETE", f"users/{SOME_ID}/sessions/1", None, "update:users"),
    ("GET", f"users/{SOME_ID}/refresh-tokens", None, "read:users"),
    ("DELETE", f"users/{SOME_ID}/refresh-tokens/1", None, "update:users"),
]


@pytest.mark.parametrize(("method", "path", "body", "scope"), OPERATIONS)
def test_each_operation_needs_its_scope(machine_token, method, path, body, scope):
    others = [s for s in ("read:users", "create:users", "update:users", "delete:users") if s != scope]
    caller = machine_token(*others, "read:roles")

    response = caller.send(method, path, body)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "insufficient_scope"
    assert f'scope="{scope}"' in response["WWW-Authenticate"]
    assert scope in response.json()["detail"]


def test_the_schema_names_each_users_operations_scope(db, management_api):
    schema = HttpClient().get("/api/v2/schema", HTTP_ACCEPT="application/json").json()

    for method, path, _, scope in OPERATIONS:
        template = "/api/v2/" + path.replace(SOME_ID, "{user_id}")
        template = template.replace("roles/1", "roles/{role_id}").replace("groups/1", "groups/{group_id}")
        template = template.replace("sessions/1", "sessions/{session_id}")
        template = template.replace("refresh-tokens/1", "refresh-tokens/{token_id}")
        assert schema["paths"][template][method.lower()]["security"] == [{"oauth2": [scope]}], template
    page = schema["paths"]["/api/v2/users"]["get"]["responses"]["200"]["content"]["application/json"]
    assert page["schema"]["$ref"] == "#/components/schemas/UserPage"
