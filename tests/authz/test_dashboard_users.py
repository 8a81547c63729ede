"""The user page: profile, access and why, consents, sessions, tokens, (de)activation."""

from __future__ import annotations

import html
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client as HttpClient
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts.models import AuditEntry, User, UserSession
from authz.models import Consent, Role
from authz.services import (
    consent_remember,
    group_add_member,
    group_add_role,
    group_create,
    group_nest,
    role_assign,
    role_create,
    role_set_permissions,
)
from tests.oauth import Pkce, exchange, get_code

pytestmark = pytest.mark.django_db

RefreshToken = get_refresh_token_model()
AccessToken = get_access_token_model()
HTMX: dict[str, Any] = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/people/",
}


@pytest.fixture
def staff_client_at_address(staff_user) -> HttpClient:
    """Signed in as staff from a known address, which the audit log must record."""
    http = HttpClient(REMOTE_ADDR="203.0.113.7")
    http.force_login(staff_user)
    return http


@pytest.fixture
def approver(timesheets_api) -> Role:
    role = role_create(actor=None, name="Timesheet Approver")
    role_set_permissions(
        actor=None, role=role, permissions=timesheets_api.scopes.filter(value__in=["approve:timesheets"])
    )
    return role


def _page(user: User) -> str:
    return f"/dashboard/people/{user.pk}/"


def _refresh(client_id: str, refresh_token: str):
    return HttpClient().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
    )


def _sign_in_to_app(http: HttpClient, client_id: str, api) -> dict:
    """Run the authorization code flow with offline access; the token response."""
    pkce = Pkce.new()
    scope = "openid offline_access read:timesheets"
    code = get_code(http, client_id, pkce, scope=scope, audience=api.identifier)
    response = exchange(http, client_id, code, pkce.verifier)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _protected(user: User) -> list[tuple[str, str]]:
    page = _page(user)
    return [
        ("get", page),
        ("post", f"{page}profile/"),
        ("post", f"{page}roles/"),
        ("post", f"{page}roles/1/remove/"),
        ("post", f"{page}groups/"),
        ("post", f"{page}groups/1/remove/"),
        ("post", f"{page}consents/1/revoke/"),
        ("post", f"{page}sessions/1/end/"),
        ("post", f"{page}tokens/1/revoke/"),
        ("get", f"{page}deactivate/"),
        ("post", f"{page}deactivate/"),
        ("get", f"{page}reactivate/"),
        ("post", f"{page}reactivate/"),
    ]


# --- Access rules ---------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login(user):
    for method, path in _protected(user):
        response = getattr(HttpClient(), method)(path, {"confirm": "on", "name": "Hijacked"})
        assert response.status_code == HTTPStatus.FOUND, path
        assert response["Location"].startswith("/login/?next="), path
    user.refresh_from_db()
    assert user.is_active and user.name == "Alice Anders"


def test_anonymous_htmx_requests_get_a_client_redirect(user):
    response = HttpClient().post(f"{_page(user)}profile/", {"name": "Hijacked"}, **HTMX)
    assert response["HX-Redirect"].startswith("/login/?next=")


def test_non_staff_users_are_forbidden_even_on_their_own_page(user_client, user, staff_user):
    for target in (user, staff_user):
        for method, path in _protected(target):
            response = getattr(user_client, method)(path, {"confirm": "on", "name": "Hijacked"})
            assert response.status_code == HTTPStatus.FORBIDDEN, path
            assert b"admin@abcinc.example" not in response.content
    staff_user.refresh_from_db()
    assert staff_user.is_active and staff_user.name == "Ada Admin"
    assert not AuditEntry.objects.filter(action__startswith="user.").exists()


def test_unknown_user_is_404(staff_client):
    assert staff_client.get("/dashboard/people/999999/").status_code == HTTPStatus.NOT_FOUND


def test_actions_need_post(staff_client, user):
    response = staff_client.get(f"{_page(user)}roles/")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_the_user_list_links_to_the_user_page(staff_client, user):
    response = staff_client.get("/dashboard/users/")
    assert f'href="{_page(user)}"' in response.content.decode()


# --- Roles, groups, effective permissions ----------------------------------------------------


def test_effective_permissions_show_the_reason_through_nested_groups(staff_client, user, timesheets_api):
    reader = role_create(actor=None, name="Timesheet User")
    role_set_permissions(
        actor=None, role=reader, permissions=timesheets_api.scopes.filter(value="read:timesheets")
    )
    staff = group_create(actor=None, name="All Staff")
    managers = group_create(actor=None, name="Managers")
    group_nest(actor=None, parent=staff, child=managers)
    group_add_role(actor=None, group=staff, role=reader)
    group_add_member(actor=None, group=managers, user=user)
    role_assign(actor=None, role=reader, user=user)

    response = staff_client.get(_page(user))
    assert response.status_code == HTTPStatus.OK
    content = html.unescape(response.content.decode())
    # The permission, for its API, with both reasons.
    assert "Timesheets API" in content
    assert "<code>read:timesheets</code>" in content
    assert "<li>role Timesheet User</li>" in content
    assert "<li>role Timesheet User via group All Staff (through Managers)</li>" in content
    # The role, held twice; the groups, direct and inherited with the chain.
    assert "<li>assigned directly</li>" in content
    assert "<li>via group All Staff (through Managers)</li>" in content
    assert "direct member" in content
    assert "via Managers → All Staff" in content
    # Only the direct membership and assignment can be removed here.
    assert f"/groups/{managers.pk}/remove/" in content
    assert f"/groups/{staff.pk}/remove/" not in content
    assert f"/roles/{reader.pk}/remove/" in content


def test_assign_a_role_with_htmx_returns_the_access_fragment_with_the_new_permission(
    staff_client, user, approver
):
    response = staff_client.post(f"{_page(user)}roles/", {"role": approver.pk}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    content = html.unescape(response.content.decode())
    assert "<html" not in content
    assert 'id="user-access"' not in content  # the swap target stays on the page
    assert "Role “Timesheet Approver” assigned." in content
    assert "<code>approve:timesheets</code>" in content
    assert "<li>role Timesheet Approver</li>" in content
    assert "HX-Request" in response["Vary"]
    assert approver.users.filter(pk=user.pk).exists()
    entry = AuditEntry.objects.get(action="role.assign")
    assert entry.actor_label == "admin@abcinc.example"
    assert entry.after == {"user": user.email}


def test_assign_without_javascript_redirects_back(staff_client, user, approver):
    response = staff_client.post(f"{_page(user)}roles/", {"role": approver.pk})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{_page(user)}#user-access"
    assert approver.users.filter(pk=user.pk).exists()


def test_assign_an_unknown_role_shows_an_inline_error(staff_client, user):
    response = staff_client.post(f"{_page(user)}roles/", {"role": "999999"}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert 'id="id_role_error"' in response.content.decode()
    assert not user.roles.exists()


def test_unassign_a_direct_role_but_not_one_held_through_a_group(staff_client, user, approver):
    role_assign(actor=None, role=approver, user=user)
    response = staff_client.post(f"{_page(user)}roles/{approver.pk}/remove/", **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "No permissions" in response.content.decode()
    assert not approver.users.filter(pk=user.pk).exists()
    assert AuditEntry.objects.filter(action="role.unassign").exists()

    group = group_create(actor=None, name="Managers")
    group_add_role(actor=None, group=group, role=approver)
    group_add_member(actor=None, group=group, user=user)
    response = staff_client.post(f"{_page(user)}roles/{approver.pk}/remove/", **HTMX)
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_add_to_and_remove_from_a_group(staff_client, user):
    group = group_create(actor=None, name="Managers")
    response = staff_client.post(f"{_page(user)}groups/", {"group": group.pk}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "Added to “Managers”." in html.unescape(response.content.decode())
    assert group.members.filter(pk=user.pk).exists()

    response = staff_client.post(f"{_page(user)}groups/{group.pk}/remove/", **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert not group.members.filter(pk=user.pk).exists()
    assert list(AuditEntry.objects.filter(target_type="authz.group").values_list("action", flat=True)) == [
        "group.remove_member",
        "group.add_member",
        "group.create",
    ]


# --- Profile --------------------------------------------------------------------------------


def test_profile_edit_is_saved_and_audited(staff_client, user, staff_user):
    response = staff_client.post(
        f"{_page(user)}profile/",
        {
            "name": "Alice Anders-Brown",
            "nickname": "alice",
            "picture": "https://abcinc.example/people/alice.png",
            "worker_type": "contractor",
            "manager": staff_user.pk,
        },
        **HTMX,
    )
    assert response.status_code == HTTPStatus.OK
    assert "Profile saved." in response.content.decode()
    assert "<html" not in response.content.decode()
    user.refresh_from_db()
    assert (user.name, user.worker_type, user.manager) == ("Alice Anders-Brown", "contractor", staff_user)
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.target_id == str(user.pk)
    assert entry.before is not None and entry.after is not None
    assert entry.before["name"] == "Alice Anders" and entry.after["name"] == "Alice Anders-Brown"
    assert entry.before["manager"] is None and entry.after["manager"] == staff_user.email


def test_profile_edit_shows_a_bad_picture_url_inline_and_changes_nothing(staff_client, user):
    data = {"name": "Renamed", "picture": "not a url", "worker_type": "employee"}
    response = staff_client.post(f"{_page(user)}profile/", data, **HTMX)
    assert response.status_code == HTTPStatus.OK
    content = html.unescape(response.content.decode())
    assert '<p class="field-error" id="id_picture_error">Enter a valid URL.' in content
    user.refresh_from_db()
    assert user.name == "Alice Anders"
    assert not AuditEntry.objects.filter(action="user.update").exists()

    # Without JavaScript, the whole page with the same inline error.
    page = staff_client.post(f"{_page(user)}profile/", data)
    assert page.status_code == HTTPStatus.OK
    assert "<html" in page.content.decode()
    assert 'id="id_picture_error"' in page.content.decode()


def test_profile_edit_refuses_a_reporting_loop(staff_client, user, staff_user):
    staff_user.manager = user
    staff_user.save()
    response = staff_client.post(
        f"{_page(user)}profile/",
        {"name": "Alice", "worker_type": "employee", "manager": staff_user.pk},
        **HTMX,
    )
    assert "already reports to" in html.unescape(response.content.decode())
    assert 'id="id_manager_error"' in response.content.decode()
    user.refresh_from_db()
    assert user.manager is None


# --- Consents, sessions, refresh tokens ------------------------------------------------------


def test_consent_revoke(staff_client, user, public_client, timesheets_api):
    consent = consent_remember(
        user=user,
        client=public_client,
        audience=timesheets_api.identifier,
        scopes=["openid", "read:timesheets"],
    )
    page = staff_client.get(_page(user)).content.decode()
    assert "Timesheets Mobile (test)" in page and "<code>read:timesheets</code>" in page

    response = staff_client.post(f"{_page(user)}consents/{consent.pk}/revoke/", **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "No consents." in response.content.decode()
    assert not Consent.objects.filter(pk=consent.pk).exists()
    entry = AuditEntry.objects.get(action="consent.revoke")
    assert entry.target_id == str(user.pk)
    assert entry.before is not None
    assert entry.before["client"] == public_client.client_id


def test_consent_of_another_user_is_not_reachable(staff_client, user, staff_user, public_client):
    consent = consent_remember(user=staff_user, client=public_client, audience="", scopes=["openid"])
    response = staff_client.post(f"{_page(user)}consents/{consent.pk}/revoke/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert Consent.objects.filter(pk=consent.pk).exists()


def test_sign_in_and_out_are_tracked(user, password):
    http = HttpClient(REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="Firefox/140")
    http.post("/login/", {"username": user.email, "password": password})
    (session,) = UserSession.objects.filter(user=user)
    assert (session.ip, session.user_agent) == ("198.51.100.4", "Firefox/140")
    assert session.session_key == http.session.session_key

    http.post("/logout/")
    assert not UserSession.objects.filter(user=user).exists()


def test_session_end_signs_that_browser_out(staff_client_at_address, user, user_client):
    assert user_client.get("/account/").status_code == HTTPStatus.OK
    (session,) = UserSession.objects.filter(user=user)
    page = staff_client_at_address.get(_page(user)).content.decode()
    assert f'id="session-{session.pk}"' in page

    response = staff_client_at_address.post(f"{_page(user)}sessions/{session.pk}/end/", **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "No active sessions." in response.content.decode()
    assert user_client.get("/account/")["Location"].startswith("/login/")
    assert not UserSession.objects.filter(pk=session.pk).exists()
    entry = AuditEntry.objects.get(action="session.end")
    assert (entry.target_id, entry.ip) == (str(user.pk), "203.0.113.7")


def test_expired_sessions_are_not_listed(staff_client, user, user_client):
    (row,) = UserSession.objects.filter(user=user)
    Session.objects.filter(session_key=row.session_key).delete()  # what expiry and clearsessions do
    assert "No active sessions." in staff_client.get(_page(user)).content.decode()


def test_refresh_tokens_are_listed_by_application_and_can_be_revoked(
    staff_client, user, user_client, public_client, timesheets_api
):
    tokens = _sign_in_to_app(user_client, public_client.client_id, timesheets_api)
    (refresh,) = RefreshToken.objects.filter(user=user, revoked__isnull=True)
    page = staff_client.get(_page(user)).content.decode()
    assert "Timesheets Mobile (test)" in page
    assert f'id="token-{refresh.pk}"' in page
    assert tokens["refresh_token"] not in page  # never the token itself

    response = staff_client.post(f"{_page(user)}tokens/{refresh.pk}/revoke/", **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "No active refresh tokens." in response.content.decode()
    refresh.refresh_from_db()
    assert refresh.revoked is not None
    assert _refresh(public_client.client_id, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    entry = AuditEntry.objects.get(action="refresh_token.revoke")
    assert entry.target_id == str(user.pk)
    assert entry.before is not None
    assert entry.before["client"] == public_client.client_id

    # Already revoked: nothing left to revoke.
    again = staff_client.post(f"{_page(user)}tokens/{refresh.pk}/revoke/")
    assert again.status_code == HTTPStatus.NOT_FOUND


# --- Deactivation ---------------------------------------------------------------------------


def test_deactivate_needs_the_confirmation(staff_client, user):
    page = staff_client.get(f"{_page(user)}deactivate/")
    assert page.status_code == HTTPStatus.OK
    response = staff_client.post(f"{_page(user)}deactivate/", {})
    assert response.status_code == HTTPStatus.OK
    assert 'id="id_confirm_error"' in response.content.decode()
    user.refresh_from_db()
    assert user.is_active


def test_deactivate_signs_out_revokes_tokens_and_is_audited(
    staff_client, user, user_client, public_client, timesheets_api
):
    tokens = _sign_in_to_app(user_client, public_client.client_id, timesheets_api)
    assert user_client.get("/account/").status_code == HTTPStatus.OK
    assert UserSession.objects.filter(user=user).exists()

    response = staff_client.post(f"{_page(user)}deactivate/", {"confirm": "on"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == _page(user)

    user.refresh_from_db()
    assert not user.is_active
    assert not RefreshToken.objects.filter(user=user, revoked__isnull=True).exists()
    assert not AccessToken.objects.filter(user=user).exists()
    assert _refresh(public_client.client_id, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert user_client.get("/account/")["Location"].startswith("/login/")
    assert not UserSession.objects.filter(user=user).exists()
    entry = AuditEntry.objects.get(action="user.deactivate")
    assert entry.actor_label == "admin@abcinc.example"
    assert entry.target_id == str(user.pk)
    assert entry.before == {"is_active": True}
    assert entry.after == {"is_active": False, "sessions_ended": 1, "grants_revoked": 1}

    page = staff_client.get(response["Location"]).content.decode()
    assert "is deactivated and signed out everywhere" in page
    assert f'href="{_page(user)}reactivate/"' in page


def test_staff_cannot_deactivate_themselves(staff_client, staff_user):
    response = staff_client.post(f"{_page(staff_user)}deactivate/", {"confirm": "on"})
    assert response.status_code == HTTPStatus.OK
    assert "You cannot deactivate yourself" in response.content.decode()
    staff_user.refresh_from_db()
    assert staff_user.is_active


def _signs_in(email: str, password: str) -> bool:
    """Through the sign-in page, as a person would (and as the lockout sees it)."""
    http = HttpClient()
    http.post("/login/", {"username": email, "password": password})
    return "_auth_user_id" in http.session


def test_reactivate(staff_client, user, password):
    staff_client.post(f"{_page(user)}deactivate/", {"confirm": "on"})
    assert not _signs_in(user.email, password)

    assert staff_client.get(f"{_page(user)}reactivate/").status_code == HTTPStatus.OK
    response = staff_client.post(f"{_page(user)}reactivate/")
    assert response.status_code == HTTPStatus.FOUND
    user.refresh_from_db()
    assert user.is_active
    assert _signs_in(user.email, password)
    entry = AuditEntry.objects.get(action="user.reactivate")
    assert (entry.before, entry.after) == ({"is_active": False}, {"is_active": True})
