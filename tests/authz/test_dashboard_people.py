"""The dashboard's people lifecycle: invite (resend, revoke), reset link, block, delete."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.core import mail
from django.test import Client as HttpClient
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts.models import AuditEntry, User
from accounts.services import user_delete
from authz.models import Consent, Group
from authz.services import consent_remember, group_add_member, group_create, role_assign, role_create
from tests.oauth import Pkce, exchange, get_code

pytestmark = pytest.mark.django_db

RefreshToken = get_refresh_token_model()
AccessToken = get_access_token_model()
NEW = "/dashboard/people/new/"
HTMX: dict[str, Any] = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/people/new/",
}


def _page(user: User) -> str:
    return f"/dashboard/people/{user.pk}/"


def _form(**overrides: Any) -> dict[str, Any]:
    return {"email": "nina@abcinc.example", "name": "Nina New", "worker_type": "contractor", **overrides}


@pytest.fixture
def invited(staff_client, django_capture_on_commit_callbacks) -> User:
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(NEW, _form())
    return User.objects.get(email="nina@abcinc.example")


def test_invite_creates_the_person_in_their_groups_and_emails_them(
    staff_client, staff_user, django_capture_on_commit_callbacks
):
    group = group_create(actor=None, name="Contractors")
    assert 'name="groups"' in staff_client.get(NEW).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(NEW, _form(manager=staff_user.pk, groups=[group.pk]))
    person = User.objects.get(email="nina@abcinc.example")
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == _page(person)
    assert list(person.authz_groups.all()) == [group] and person.manager == staff_user
    [message] = mail.outbox
    assert message.to == ["nina@abcinc.example"] and "/invitation/" in message.body
    page = staff_client.get(_page(person)).content.decode()
    assert "Invitation sent to nina@abcinc.example." in page
    assert "Invited, not yet accepted." in page and "Resend invitation" in page


def test_htmx_invite_navigates_to_the_person(staff_client):
    response = staff_client.post(NEW, _form(), **HTMX)
    person = User.objects.get(email="nina@abcinc.example")
    assert response["HX-Redirect"] == _page(person)


def test_an_existing_email_is_refused_inline_and_nothing_is_created(staff_client, user):
    group = group_create(actor=None, name="Contractors")
    response = staff_client.post(NEW, _form(email="Alice@ABCinc.example", groups=[group.pk]), **HTMX)
    body = response.content.decode()
    assert response.status_code == HTTPStatus.OK and "<h1>" not in body
    assert 'class="field-error" id="id_email_error">Someone with this email address already exists.' in body
    assert User.objects.count() == 2 and not group.members.exists() and mail.outbox == []


@pytest.mark.parametrize(
    ("field", "value"), [("email", "not-an-email"), ("worker_type", "pirate"), ("manager", "999999")]
)
def test_bad_input_is_shown_next_to_its_field(staff_client, field, value):
    response = staff_client.post(NEW, _form(**{field: value}), **HTMX)
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not User.objects.filter(name="Nina New").exists()


def test_resend_and_revoke_answer_the_section(staff_client, invited, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"{_page(invited)}invitation/resend/", **HTMX)
    body = response.content.decode()
    assert "A new invitation is on its way to nina@abcinc.example" in body and "<h1>" not in body
    assert len(mail.outbox) == 2
    response = staff_client.post(f"{_page(invited)}invitation/revoke/", **HTMX)
    body = response.content.decode()
    assert "The invitation of nina@abcinc.example is revoked" in body and "Send invitation" in body
    assert AuditEntry.objects.filter(action="user.invitation_revoke").count() == 1


def test_reset_sends_a_link_and_the_admin_sees_no_password(
    staff_client, user, password, django_capture_on_commit_callbacks
):
    page = staff_client.get(_page(user)).content.decode()
    assert "Send password reset link" in page and 'type="password"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"{_page(user)}password-reset/", **HTMX)
    assert "A single-use link to choose a new password is on its way" in response.content.decode()
    assert mail.outbox[0].to == [user.email] and password not in response.content.decode()
    assert AuditEntry.objects.filter(action="user.password_reset_sent", target_id=str(user.pk)).exists()


def test_reset_for_an_invited_person_is_refused_in_the_section(staff_client, invited):
    response = staff_client.post(f"{_page(invited)}password-reset/", **HTMX)
    assert "resend the invitation instead" in response.content.decode()
    assert len(mail.outbox) == 1  # the invitation only


def test_without_javascript_a_lifecycle_action_redirects_back(staff_client, invited):
    response = staff_client.post(f"{_page(invited)}invitation/revoke/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{_page(invited)}#user-lifecycle"


def test_the_block_button_is_named_block(staff_client, user):
    page = staff_client.get(_page(user)).content.decode()
    assert f'href="{_page(user)}deactivate/">Block</a>' in page
    assert f'href="{_page(user)}delete/">Delete</a>' in page
    assert "Block user" in staff_client.get(f"{_page(user)}deactivate/").content.decode()


# --- Delete -----------------------------------------------------------------------------------


def test_the_delete_page_says_what_happens(staff_client, user):
    body = staff_client.get(f"{_page(user)}delete/").content.decode()
    assert "timesheet entries and audit log entries stay, attributed to a tombstone" in body
    assert (
        "Alice Anders, alice@abcinc.example" in body
        and "refresh tokens and access tokens are revoked" in body
    )


def test_delete_needs_the_box_ticked(staff_client, user):
    response = staff_client.post(f"{_page(user)}delete/", {})
    assert response.status_code == HTTPStatus.OK and "This field is required" in response.content.decode()
    user.refresh_from_db()
    assert user.deleted_at is None


def _sign_in_to_app(http: HttpClient, client_id: str, api) -> dict:
    pkce = Pkce.new()
    code = get_code(
        http, client_id, pkce, scope="openid offline_access read:timesheets", audience=api.identifier
    )
    response = exchange(http, client_id, code, pkce.verifier)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def test_delete_makes_a_tombstone_and_takes_every_access(
    staff_client, user, user_client, public_client, timesheets_api
):
    _sign_in_to_app(user_client, public_client.client_id, timesheets_api)
    role = role_create(actor=None, name="Approver")
    role_assign(actor=None, role=role, user=user)
    group_add_member(actor=None, group=group_create(actor=None, name="Team"), user=user)
    consent_remember(user=user, client=public_client, audience="", scopes=["openid"])
    response = staff_client.post(f"{_page(user)}delete/", {"confirm": "on"})
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == "/dashboard/users/"
    user.refresh_from_db()
    assert user.status == "deleted" and user.former_email == "alice@abcinc.example"
    assert not RefreshToken.objects.filter(user=user, revoked__isnull=True).exists()
    assert not AccessToken.objects.filter(user=user).exists()
    assert not user.roles.exists() and not Group.objects.filter(members=user).exists()
    assert not Consent.objects.filter(user=user).exists()
    assert user_client.get("/account/")["Location"].startswith("/login/")
    entry = AuditEntry.objects.get(action="user.delete")
    assert entry.after is not None and entry.after["grants_revoked"] == 1
    page = staff_client.get(_page(user)).content.decode()
    assert "This record is a tombstone" in page and ">Delete</a>" not in page and ">Unblock</a>" not in page
    assert staff_client.post(f"{_page(user)}reactivate/").status_code == HTTPStatus.FOUND
    user.refresh_from_db()
    assert not user.is_active


def test_staff_cannot_delete_themselves(staff_client, staff_user):
    assert ">Delete</a>" not in staff_client.get(_page(staff_user)).content.decode()
    response = staff_client.post(f"{_page(staff_user)}delete/", {"confirm": "on"})
    assert "You cannot delete yourself" in response.content.decode()
    staff_user.refresh_from_db()
    assert staff_user.deleted_at is None


# --- Who may -------------------------------------------------------------------------------------


def _writes(person: User) -> list[tuple[str, str]]:
    page = _page(person)
    return [
        ("get", NEW),
        ("post", NEW),
        ("post", f"{page}invitation/resend/"),
        ("post", f"{page}invitation/revoke/"),
        ("post", f"{page}password-reset/"),
        ("get", f"{page}delete/"),
        ("post", f"{page}delete/"),
        ("post", f"{page}deactivate/"),
        ("post", f"{page}reactivate/"),
    ]


def test_auditors_can_do_none_of_it(auditor_client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for method, url in _writes(user):
            response = getattr(auditor_client, method)(url, {**_form(), "confirm": "on"})
            assert response.status_code == HTTPStatus.FORBIDDEN, (method, url)
    page = auditor_client.get(_page(user)).content.decode()
    assert "Send password reset link" not in page and ">Block</a>" not in page
    assert "Invite a person" not in auditor_client.get("/dashboard/users/").content.decode()
    user.refresh_from_db()
    assert user.is_active and user.deleted_at is None and mail.outbox == []
    assert not User.objects.filter(email="nina@abcinc.example").exists()


def test_people_without_staff_access_can_do_none_of_it(user_client, user):
    for method, url in _writes(user):
        assert getattr(user_client, method)(url, _form()).status_code == HTTPStatus.FORBIDDEN, (method, url)


def test_anonymous_browsers_are_sent_to_sign_in(user):
    for method, url in _writes(user):
        response = getattr(HttpClient(), method)(url, _form())
        assert response.status_code == HTTPStatus.FOUND and response["Location"].startswith("/login/")


def test_nobody_picks_a_tombstone_as_a_manager(staff_client, user, staff_user):
    gone = User.objects.create_user(email="gone@abcinc.example")
    user_delete(actor=None, user=gone)
    for page in (NEW, _page(user)):
        assert "@deleted.invalid" not in staff_client.get(page).content.decode(), page
    response = staff_client.post(NEW, _form(manager=gone.pk), **HTMX)
    assert 'id="id_manager_error"' in response.content.decode()


def test_a_tombstone_page_offers_nothing_to_edit(staff_client, user):
    user_delete(actor=None, user=user)
    page = staff_client.get(_page(user)).content.decode()
    assert "This record is a tombstone" in page
    assert 'id="user-profile"' not in page
    assert 'id="user-access"' not in page
