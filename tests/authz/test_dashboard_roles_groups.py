"""The Roles and Groups sections of the staff dashboard, and "Who can?"."""

from __future__ import annotations

import html
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client as HttpClient

from accounts.models import AuditEntry, User
from apis.models import Api, Scope
from apis.services import api_create
from authz import services
from authz.models import Group, GroupNesting, Role

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/roles/",
}


@pytest.fixture
def approve(timesheets_api: Api) -> Scope:
    return timesheets_api.scopes.get(value="approve:timesheets")


@pytest.fixture
def role(approve) -> Role:
    return services.role_create(
        actor=None, name="Approver", description="Approves timesheets", permissions=[approve]
    )


@pytest.fixture
def group() -> Group:
    return services.group_create(actor=None, name="Managers", description="Team managers")


@pytest.fixture
def bob(password) -> User:
    return User.objects.create_user(email="bob@abcinc.example", password=password, name="Bob Brown")


def _content(response) -> str:
    return html.unescape(response.content.decode())


def _audited(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("id")


def _protected(role: Role, group: Group, user: User, approve: Scope) -> list[tuple[str, str]]:
    return [
        ("get", "/dashboard/roles/"),
        ("post", "/dashboard/roles/new/"),
        ("get", "/dashboard/roles/who-can/"),
        ("get", f"/dashboard/roles/who-can/?scope={approve.pk}"),
        ("get", f"/dashboard/roles/{role.pk}/"),
        ("get", f"/dashboard/roles/{role.pk}/?q=alice"),
        ("post", f"/dashboard/roles/{role.pk}/settings/"),
        ("post", f"/dashboard/roles/{role.pk}/permissions/"),
        ("post", f"/dashboard/roles/{role.pk}/users/"),
        ("post", f"/dashboard/roles/{role.pk}/users/{user.pk}/remove/"),
        ("get", f"/dashboard/roles/{role.pk}/delete/"),
        ("post", f"/dashboard/roles/{role.pk}/delete/"),
        ("get", "/dashboard/groups/"),
        ("post", "/dashboard/groups/new/"),
        ("get", f"/dashboard/groups/{group.pk}/"),
        ("post", f"/dashboard/groups/{group.pk}/settings/"),
        ("post", f"/dashboard/groups/{group.pk}/members/"),
        ("post", f"/dashboard/groups/{group.pk}/members/{user.pk}/remove/"),
        ("post", f"/dashboard/groups/{group.pk}/roles/"),
        ("post", f"/dashboard/groups/{group.pk}/roles/{role.pk}/remove/"),
        ("post", f"/dashboard/groups/{group.pk}/subgroups/"),
        ("post", f"/dashboard/groups/{group.pk}/subgroups/{group.pk}/remove/"),
        ("get", f"/dashboard/groups/{group.pk}/delete/"),
        ("post", f"/dashboard/groups/{group.pk}/delete/"),
    ]


def _hostile_data(user: User, role: Role, group: Group) -> dict[str, object]:
    return {"name": "Hijacked", "user": user.pk, "role": role.pk, "subgroup": group.pk, "permissions": []}


def _unchanged(role: Role, group: Group, approve: Scope) -> None:
    role.refresh_from_db()
    group.refresh_from_db()
    assert (role.name, group.name) == ("Approver", "Managers")
    assert list(role.permissions.all()) == [approve]
    assert not role.users.exists() and not group.members.exists() and not group.roles.exists()
    assert Role.objects.count() == 1 and Group.objects.count() == 1
    assert not AuditEntry.objects.filter(actor__isnull=False).exclude(action__startswith="security.").exists()


def test_anonymous_users_are_sent_to_login(role, group, user, approve):
    for method, path in _protected(role, group, user, approve):
        response = getattr(HttpClient(), method)(path, _hostile_data(user, role, group))
        assert response.status_code == HTTPStatus.FOUND, path
        assert response["Location"].startswith("/login/?next="), path
    _unchanged(role, group, approve)


def test_anonymous_htmx_requests_get_a_client_redirect(role, user):
    response = HttpClient().post(f"/dashboard/roles/{role.pk}/users/", {"user": user.pk}, **HTMX)
    assert response["HX-Redirect"].startswith("/login/?next=")
    assert not role.users.exists()


def test_non_staff_users_are_forbidden(user_client, role, group, user, approve):
    for method, path in _protected(role, group, user, approve):
        response = getattr(user_client, method)(path, _hostile_data(user, role, group))
        assert response.status_code == HTTPStatus.FORBIDDEN, path
        assert b"Approver" not in response.content, path
    _unchanged(role, group, approve)


def test_unknown_pks_are_404(staff_client, role, group, user):
    for method, path in [
        ("get", "/dashboard/roles/999999/"),
        ("post", "/dashboard/roles/999999/permissions/"),
        ("post", "/dashboard/roles/999999/users/"),
        ("get", "/dashboard/roles/999999/delete/"),
        ("get", "/dashboard/groups/999999/"),
        ("post", "/dashboard/groups/999999/members/"),
        ("post", "/dashboard/groups/999999/subgroups/"),
        ("post", "/dashboard/groups/999999/delete/"),
        # Not assigned, not a member, not held, not nested: nothing to remove.
        ("post", f"/dashboard/roles/{role.pk}/users/{user.pk}/remove/"),
        ("post", f"/dashboard/groups/{group.pk}/members/{user.pk}/remove/"),
        ("post", f"/dashboard/groups/{group.pk}/roles/{role.pk}/remove/"),
        ("post", f"/dashboard/groups/{group.pk}/subgroups/{group.pk}/remove/"),
    ]:
        assert getattr(staff_client, method)(path).status_code == HTTPStatus.NOT_FOUND, path


def test_get_is_refused_on_writes(staff_client, role, group):
    for path in [
        f"/dashboard/roles/{role.pk}/permissions/",
        f"/dashboard/roles/{role.pk}/users/",
        f"/dashboard/groups/{group.pk}/members/",
        f"/dashboard/groups/{group.pk}/subgroups/",
    ]:
        assert staff_client.get(path).status_code == HTTPStatus.METHOD_NOT_ALLOWED, path


# --- Roles ------------------------------------------------------------------------------------


def test_role_list_shows_counts_and_the_create_form(staff_client, role, group, user):
    services.role_assign(actor=None, role=role, user=user)
    services.group_add_role(actor=None, group=group, role=role)
    response = staff_client.get("/dashboard/roles/")
    assert response.status_code == HTTPStatus.OK
    assert [(r.name, r.permission_count, r.user_count, r.group_count) for r in response.context["roles"]] == [
        ("Approver", 1, 1, 1)
    ]
    content = _content(response)
    assert "Approves timesheets" in content
    assert 'action="/dashboard/roles/new/"' in content
    assert 'href="/dashboard/roles/who-can/"' in content


def test_create_role_redirects_to_its_page(staff_client, staff_user):
    response = staff_client.post("/dashboard/roles/new/", {"name": " Payroll clerk ", "description": "Pay"})
    role = Role.objects.get(name="Payroll clerk")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/roles/{role.pk}/"
    assert "Role “Payroll clerk” created." in _content(staff_client.get(response["Location"]))
    entry = _audited("role.create")
    assert entry.actor == staff_user and entry.target_id == str(role.pk)


def test_create_role_with_htmx_navigates_with_a_client_redirect(staff_client):
    response = staff_client.post("/dashboard/roles/new/", {"name": "Payroll clerk"}, **HTMX)
    role = Role.objects.get(name="Payroll clerk")
    assert response["HX-Redirect"] == f"/dashboard/roles/{role.pk}/"


def test_duplicate_role_name_is_shown_inline_and_nothing_is_created(staff_client, role):
    response = staff_client.post("/dashboard/roles/new/", {"name": "Approver", "description": "Again"})
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    assert "<html" in content  # without JavaScript: the list page with the form's error
    assert '<p class="field-error" id="id_name_error">Role with this Name already exists.' in content

    fragment = staff_client.post("/dashboard/roles/new/", {"name": "Approver"}, **HTMX)
    content = _content(fragment)
    assert "<html" not in content and 'id="role-create"' not in content
    assert '<p class="field-error" id="id_name_error">Role with this Name already exists.' in content
    assert "HX-Request" in fragment["Vary"]
    assert Role.objects.count() == 1
    assert not AuditEntry.objects.filter(action="role.create", actor__isnull=False).exists()


def test_role_update_and_its_inline_errors(staff_client, staff_user, role):
    services.role_create(actor=None, name="Clerk")
    response = staff_client.post(f"/dashboard/roles/{role.pk}/settings/", {"name": "Clerk"})
    assert response.status_code == HTTPStatus.OK
    assert 'id="id_name_error">Role with this Name already exists.' in _content(response)
    assert "<h1>Approver</h1>" in _content(response)  # the stored name, not the refused one

    response = staff_client.post(
        f"/dashboard/roles/{role.pk}/settings/", {"name": "Approvers", "description": "Sign off"}
    )
    assert response.status_code == HTTPStatus.FOUND
    role.refresh_from_db()
    assert (role.name, role.description) == ("Approvers", "Sign off")
    assert _audited("role.update").actor == staff_user


def test_role_page_lists_the_scopes_of_every_api_in_one_fieldset_each(staff_client, role, approve):
    api_create(
        identifier="https://payroll.abcinc.example/", name="Payroll API", scopes={"run:payroll": "Run it"}
    )
    response = staff_client.get(f"/dashboard/roles/{role.pk}/")
    assert response.status_code == HTTPStatus.OK
    fieldsets = response.context["permissions_form"].by_api()
    assert [(api.name, [scope.value for _, scope in boxes]) for api, boxes in fieldsets] == [
        ("Payroll API", ["run:payroll"]),
        (
            "Timesheets API",
            ["approve:timesheets", "create:timesheets", "delete:timesheets", "read:timesheets"],
        ),
    ]
    content = _content(response)
    assert content.count('<fieldset class="permission-api">') == 2
    assert f'value="{approve.pk}"' in content and "checked" in content
    assert f'href="/dashboard/roles/who-can/?scope={approve.pk}"' in content


def test_set_permissions_with_htmx_returns_only_the_fragment(staff_client, staff_user, role, timesheets_api):
    read = timesheets_api.scopes.get(value="read:timesheets")
    create = timesheets_api.scopes.get(value="create:timesheets")
    response = staff_client.post(
        # Approve is taken away: sent with the confirm button (tests/authz/test_permission_loss_preview.py).
        f"/dashboard/roles/{role.pk}/permissions/",
        {"permissions": [read.pk, create.pk], "confirmed": "1"},
        **HTMX,
    )
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    assert "<html" not in content
    assert 'id="role-permissions"' not in content  # the swap target stays on the page
    assert "Who has this role" not in content  # only the changed fragment
    assert "Permissions saved: 2 permissions." in content
    assert "HX-Request" in response["Vary"]
    assert set(role.permissions.all()) == {read, create}
    entry = _audited("role.permissions")
    assert entry.actor == staff_user
    assert entry.after is not None
    assert entry.after["permissions"] == [
        "https://timesheets.abcinc.example/api create:timesheets",
        "https://timesheets.abcinc.example/api read:timesheets",
    ]


def test_set_permissions_without_javascript_redirects_back(staff_client, role):
    response = staff_client.post(f"/dashboard/roles/{role.pk}/permissions/", {"confirmed": "1"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/roles/{role.pk}/#role-permissions"
    assert not role.permissions.exists()


def test_unknown_permission_is_refused_inline(staff_client, role, approve):
    response = staff_client.post(
        f"/dashboard/roles/{role.pk}/permissions/", {"permissions": [999999]}, **HTMX
    )
    assert response.status_code == HTTPStatus.OK
    assert "Select a valid choice" in _content(response)
    assert list(role.permissions.all()) == [approve]


def test_user_search_returns_only_the_results(staff_client, role, user, bob):
    services.role_assign(actor=None, role=role, user=bob)
    response = staff_client.get(f"/dashboard/roles/{role.pk}/?q=abcinc", **HTMX)
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    assert "<html" not in content and "Who has this role" not in content
    assert 'aria-label="Assign alice@abcinc.example"' in content
    assert 'aria-label="Assign bob@abcinc.example"' not in content  # already assigned
    assert "Assigned" in content
    assert "HX-Request" in response["Vary"]

    nobody = staff_client.get(f"/dashboard/roles/{role.pk}/?q=zebra", **HTMX)
    assert "No user matches “zebra”." in _content(nobody)


def test_user_search_without_javascript_shows_the_page_with_results(staff_client, role, user):
    response = staff_client.get(f"/dashboard/roles/{role.pk}/?q=alice")
    content = _content(response)
    assert "<html" in content
    assert 'aria-label="Assign alice@abcinc.example"' in content


def test_assign_and_unassign_a_user(staff_client, staff_user, role, user):
    response = staff_client.post(f"/dashboard/roles/{role.pk}/users/", {"user": user.pk, "q": "ali"}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    assert "<html" not in content and 'id="role-holders"' not in content
    assert "“Approver” assigned to alice@abcinc.example." in content
    assert "assigned directly" in content
    assert 'aria-label="Unassign alice@abcinc.example"' in content
    assert 'value="ali"' in content  # the search stays
    assert list(role.users.all()) == [user]
    assert _audited("role.assign").actor == staff_user

    response = staff_client.post(f"/dashboard/roles/{role.pk}/users/{user.pk}/remove/", **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "Nobody holds this role yet." in _content(response)
    assert not role.users.exists()
    assert _audited("role.unassign").actor == staff_user


def test_assign_without_javascript_redirects_back(staff_client, role, user):
    response = staff_client.post(f"/dashboard/roles/{role.pk}/users/", {"user": user.pk, "q": "alice"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/roles/{role.pk}/?q=alice#role-holders"
    assert role.users.filter(pk=user.pk).exists()


def test_assign_an_unknown_user_is_refused_inline(staff_client, role):
    response = staff_client.post(f"/dashboard/roles/{role.pk}/users/", {"user": 999999}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "Select a valid choice" in _content(response)
    assert not role.users.exists()


def test_role_page_shows_holders_through_nested_groups_and_the_groups(staff_client, role, group, user):
    team = services.group_create(actor=None, name="Team leads")
    services.group_add_role(actor=None, group=group, role=role)
    services.group_nest(actor=None, parent=group, child=team)
    services.group_add_member(actor=None, group=team, user=user)
    response = staff_client.get(f"/dashboard/roles/{role.pk}/")
    content = _content(response)
    assert "via group Managers (through Team leads)" in content
    assert 'aria-label="Unassign alice@abcinc.example"' not in content  # not assigned directly
    assert f'href="/dashboard/groups/{group.pk}/"' in content


def test_delete_role_after_confirmation(staff_client, staff_user, role, user):
    services.role_assign(actor=None, role=role, user=user)
    page = staff_client.get(f"/dashboard/roles/{role.pk}/delete/")
    assert page.status_code == HTTPStatus.OK
    assert "1 user who holds it" in _content(page)
    assert Role.objects.filter(pk=role.pk).exists()

    response = staff_client.post(f"/dashboard/roles/{role.pk}/delete/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/dashboard/roles/"
    assert not Role.objects.exists()
    assert _audited("role.delete").actor == staff_user


# --- Groups -----------------------------------------------------------------------------------


def test_group_list_shows_counts(staff_client, group, role, user):
    services.group_add_member(actor=None, group=group, user=user)
    services.group_add_role(actor=None, group=group, role=role)
    response = staff_client.get("/dashboard/groups/")
    assert response.status_code == HTTPStatus.OK
    assert [(g.name, g.member_count, g.role_count, g.subgroup_count) for g in response.context["groups"]] == [
        ("Managers", 1, 1, 0)
    ]


def test_create_group_and_duplicate_name_inline(staff_client, staff_user, group):
    response = staff_client.post("/dashboard/groups/new/", {"name": "Managers"}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    assert "<html" not in content
    assert '<p class="field-error" id="id_name_error">Group with this Name already exists.' in content
    assert Group.objects.count() == 1

    response = staff_client.post("/dashboard/groups/new/", {"name": "Team leads", "description": "Leads"})
    created = Group.objects.get(name="Team leads")
    assert response["Location"] == f"/dashboard/groups/{created.pk}/"
    assert _audited("group.create").actor == staff_user


def test_group_update(staff_client, staff_user, group):
    response = staff_client.post(
        f"/dashboard/groups/{group.pk}/settings/", {"name": "Leads", "description": ""}
    )
    assert response.status_code == HTTPStatus.FOUND
    group.refresh_from_db()
    assert group.name == "Leads"
    assert _audited("group.update").actor == staff_user


def test_group_member_search_add_and_remove(staff_client, staff_user, group, user):
    search = staff_client.get(f"/dashboard/groups/{group.pk}/?q=alice", **HTMX)
    assert "<html" not in _content(search)
    assert 'aria-label="Add alice@abcinc.example"' in _content(search)

    response = staff_client.post(f"/dashboard/groups/{group.pk}/members/", {"user": user.pk}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    assert "<html" not in content and 'id="group-members"' not in content
    assert "Nested groups" not in content  # only the members fragment
    assert "alice@abcinc.example added to “Managers”." in content
    assert list(group.members.all()) == [user]
    assert _audited("group.add_member").actor == staff_user

    response = staff_client.post(f"/dashboard/groups/{group.pk}/members/{user.pk}/remove/", **HTMX)
    assert "alice@abcinc.example removed from “Managers”." in _content(response)
    assert not group.members.exists()
    assert _audited("group.remove_member").actor == staff_user


def test_group_member_add_without_javascript_redirects_back(staff_client, group, user):
    response = staff_client.post(f"/dashboard/groups/{group.pk}/members/", {"user": user.pk})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/groups/{group.pk}/#group-members"
    assert group.members.filter(pk=user.pk).exists()


def test_group_role_add_and_remove(staff_client, staff_user, group, role):
    page = staff_client.get(f"/dashboard/groups/{group.pk}/")
    assert f'<option value="{role.pk}">Approver</option>' in _content(page)

    response = staff_client.post(f"/dashboard/groups/{group.pk}/roles/", {"role": role.pk}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    assert "<html" not in content and "Role “Approver” added" in content
    assert list(group.roles.all()) == [role]
    assert _audited("group.add_role").actor == staff_user

    response = staff_client.post(f"/dashboard/groups/{group.pk}/roles/{role.pk}/remove/", **HTMX)
    assert "Role “Approver” removed from “Managers”." in _content(response)
    assert not group.roles.exists()
    assert _audited("group.remove_role").actor == staff_user


def test_nest_and_unnest_a_group(staff_client, staff_user, group):
    team = services.group_create(actor=None, name="Team leads")
    response = staff_client.post(f"/dashboard/groups/{group.pk}/subgroups/", {"subgroup": team.pk}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    assert "<html" not in content and 'id="group-subgroups"' not in content
    assert "“Team leads” is now inside “Managers”" in content
    assert list(group.subgroups.all()) == [team]
    assert _audited("group.nest").actor == staff_user

    # The nested group's page shows where it sits.
    child_page = _content(staff_client.get(f"/dashboard/groups/{team.pk}/"))
    assert "is nested inside" in child_page and f'href="/dashboard/groups/{group.pk}/"' in child_page

    response = staff_client.post(f"/dashboard/groups/{group.pk}/subgroups/{team.pk}/remove/", **HTMX)
    assert "“Team leads” is no longer inside “Managers”." in _content(response)
    assert not GroupNesting.objects.exists()
    assert _audited("group.unnest").actor == staff_user


def test_a_cycle_is_refused_with_the_message_inline(staff_client, group):
    team = services.group_create(actor=None, name="Team leads")
    shift = services.group_create(actor=None, name="Shift leads")
    services.group_nest(actor=None, parent=group, child=team)
    services.group_nest(actor=None, parent=team, child=shift)
    before = AuditEntry.objects.count()

    # Managers ⊃ Team leads ⊃ Shift leads: putting Managers inside Shift leads closes a loop.
    response = staff_client.post(f"/dashboard/groups/{shift.pk}/subgroups/", {"subgroup": group.pk}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    assert "<html" not in content
    assert (
        '<p class="field-error" id="id_add_subgroup_subgroup_error">'
        "“Managers” cannot go inside “Shift leads”: “Shift leads” is already inside “Managers”, "
        "which would make a cycle." in content
    )
    assert set(GroupNesting.objects.values_list("parent__name", "child__name")) == {
        ("Managers", "Team leads"),
        ("Team leads", "Shift leads"),
    }
    assert AuditEntry.objects.count() == before

    # Without JavaScript, the same error on the whole page.
    response = staff_client.post(f"/dashboard/groups/{shift.pk}/subgroups/", {"subgroup": group.pk})
    assert response.status_code == HTTPStatus.OK
    assert "<html" in _content(response) and "which would make a cycle." in _content(response)
    assert GroupNesting.objects.count() == 2


def test_a_group_cannot_be_nested_in_itself(staff_client, group):
    response = staff_client.post(f"/dashboard/groups/{group.pk}/subgroups/", {"subgroup": group.pk}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert 'id="id_add_subgroup_subgroup_error"' in _content(response)
    assert not GroupNesting.objects.exists()


def test_delete_group_after_confirmation(staff_client, staff_user, group, role, user):
    services.group_add_role(actor=None, group=group, role=role)
    page = staff_client.get(f"/dashboard/groups/{group.pk}/delete/")
    assert page.status_code == HTTPStatus.OK
    assert "(Approver)" in _content(page)
    assert Group.objects.exists()

    response = staff_client.post(f"/dashboard/groups/{group.pk}/delete/")
    assert response["Location"] == "/dashboard/groups/"
    assert not Group.objects.exists()
    assert Role.objects.filter(pk=role.pk).exists()
    assert _audited("group.delete").actor == staff_user


# --- Who can? ---------------------------------------------------------------------------------


def test_who_can_lists_a_user_through_a_nested_group(staff_client, role, group, user, bob, approve):
    team = services.group_create(actor=None, name="Team leads")
    services.group_add_role(actor=None, group=group, role=role)
    services.group_nest(actor=None, parent=group, child=team)
    services.group_add_member(actor=None, group=team, user=user)
    services.role_assign(actor=None, role=role, user=bob)

    response = staff_client.get(f"/dashboard/roles/who-can/?scope={approve.pk}")
    assert response.status_code == HTTPStatus.OK
    assert [(h.user.email, h.reasons) for h in response.context["holders"]] == [
        ("alice@abcinc.example", ("role Approver via group Managers (through Team leads)",)),
        ("bob@abcinc.example", ("role Approver",)),
    ]
    content = _content(response)
    assert "<html" in content
    assert "role Approver via group Managers (through Team leads)" in content
    assert '<optgroup label="Timesheets API">' in content
    assert f'<option value="{approve.pk}" selected>approve:timesheets</option>' in content


def test_who_can_with_htmx_returns_only_the_results(staff_client, role, user, approve, timesheets_api):
    services.role_assign(actor=None, role=role, user=user)
    response = staff_client.get(f"/dashboard/roles/who-can/?scope={approve.pk}", **HTMX)
    content = _content(response)
    assert "<html" not in content and "<select" not in content
    assert "alice@abcinc.example" in content
    assert "HX-Request" in response["Vary"]

    read = timesheets_api.scopes.get(value="read:timesheets")
    nobody = _content(staff_client.get(f"/dashboard/roles/who-can/?scope={read.pk}", **HTMX))
    assert "Nobody holds" in nobody and "alice@" not in nobody


def test_who_can_with_an_unknown_scope_shows_the_error_on_the_field(staff_client, approve):
    response = staff_client.get("/dashboard/roles/who-can/?scope=999999")
    assert response.status_code == HTTPStatus.OK
    assert "Select a valid choice" in _content(response)
    assert "holders" not in response.context
