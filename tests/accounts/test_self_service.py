"""Forgot password, password links (resets and invitations), and changing one's password."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from http import HTTPStatus

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.models import AuditEntry, User, UserSession
from accounts.self_service import password_link
from accounts.sessions import session_store

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "plum-orchard-lantern-42"
LINK = re.compile(r"http://testserver(/password/set/\S+/)")


def _forgot(http: HttpClient, email: str):
    return http.post("/password/forgot/", {"email": email})


def _link_in_mail() -> str:
    [message] = mail.outbox
    match = LINK.search(str(message.body))
    assert match, message.body
    return match.group(1)


def _set(http: HttpClient, path: str, password: str = NEW_PASSWORD, again: str | None = None):
    return http.post(path, {"new_password1": password, "new_password2": again or password})


def test_the_sign_in_page_links_to_forgot_password():
    assert b'href="/password/forgot/"' in HttpClient().get("/login/").content


def test_forgot_password_emails_a_link_that_sets_a_new_password(
    user, password, django_capture_on_commit_callbacks
):
    http = HttpClient()
    with django_capture_on_commit_callbacks(execute=True):
        response = _forgot(http, "  ALICE@abcinc.example ")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/password/forgot/sent/"
    assert mail.outbox[0].to == [user.email]
    assert "expires in 1 hour" in str(mail.outbox[0].body)
    path = _link_in_mail()

    page = http.get(path)
    assert page.status_code == HTTPStatus.OK
    assert b"Choose a new password" in page.content
    assert "no-store" in page["Cache-Control"]  # the page's URL holds the token
    response = _set(http, path)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/login/"
    # Nobody is signed in by the link: the person signs in with the new password.
    assert "_auth_user_id" not in http.session
    old = http.post("/login/", {"username": user.email, "password": password})
    assert old.status_code == HTTPStatus.OK
    assert (
        http.post("/login/", {"username": user.email, "password": NEW_PASSWORD}).status_code
        == HTTPStatus.FOUND
    )
    assert AuditEntry.objects.filter(action="user.password_reset", target_id=str(user.pk)).exists()


def test_unknown_email_gets_the_same_answer_and_no_mail(user, django_capture_on_commit_callbacks):
    http = HttpClient()
    with django_capture_on_commit_callbacks(execute=True):
        known = _forgot(http, user.email)
        unknown = _forgot(http, "nobody@abcinc.example")
    assert unknown.status_code == known.status_code == HTTPStatus.FOUND
    assert unknown["Location"] == known["Location"]
    assert len(mail.outbox) == 1
    sent = http.get(known["Location"])
    assert b"If an account has that address" in sent.content


def test_the_page_does_the_same_work_for_known_and_unknown_emails(
    user, monkeypatch, django_capture_on_commit_callbacks
):
    # The lookup and the sending happen in a Celery task: the request only enqueues it, so
    # its timing says nothing about the address.
    queued: list[str] = []
    monkeypatch.setattr("accounts.tasks.password_reset_request_task.delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        _forgot(HttpClient(), user.email)
        _forgot(HttpClient(), "nobody@abcinc.example")
    assert queued == [user.email, "nobody@abcinc.example"]
    assert mail.outbox == []


def test_blocked_people_and_people_without_a_password_get_no_link(user, django_capture_on_commit_callbacks):
    invited = User.objects.create_user(email="ivan@abcinc.example", password=None)
    user.is_active = False
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert _forgot(HttpClient(), user.email).status_code == HTTPStatus.FOUND
        assert _forgot(HttpClient(), invited.email).status_code == HTTPStatus.FOUND
    assert mail.outbox == []


def test_an_invalid_email_is_refused_inline():
    response = _forgot(HttpClient(), "not an email")
    assert response.status_code == HTTPStatus.OK
    assert b"Enter a valid email address" in response.content


def test_requests_are_limited_per_email_whoever_sends_them(
    user, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_PER_EMAIL = 2
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(2):
            assert _forgot(HttpClient(REMOTE_ADDR=f"10.0.0.{n}"), user.email).status_code == HTTPStatus.FOUND
        response = _forgot(HttpClient(REMOTE_ADDR="10.0.0.9"), user.email.upper())
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(response["Retry-After"]) > 0
    assert b"Try again in" in response.content
    assert len(mail.outbox) == 2


def test_requests_are_limited_per_address_whatever_the_email(settings):
    settings.PASSWORD_RESET_PER_ADDRESS = 3
    http = HttpClient(REMOTE_ADDR="10.1.1.1")
    for n in range(3):
        assert _forgot(http, f"someone{n}@abcinc.example").status_code == HTTPStatus.FOUND
    assert _forgot(http, "another@abcinc.example").status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert (
        _forgot(HttpClient(REMOTE_ADDR="10.1.1.2"), "another@abcinc.example").status_code == HTTPStatus.FOUND
    )


def test_a_link_works_once(user):
    path = password_link(user, purpose="reset").removeprefix("http://testserver")
    assert _set(HttpClient(), path).status_code == HTTPStatus.FOUND
    again = HttpClient().get(path)
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert b"This link does not work" in again.content
    assert b'href="/password/forgot/"' in again.content
    assert _set(HttpClient(), path, "another-fine-passphrase-7").status_code == HTTPStatus.BAD_REQUEST
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_tampered_link_is_refused(user, password):
    path = password_link(user, purpose="reset").removeprefix("http://testserver")
    prefix, token = path.rstrip("/").rsplit("/", 1)
    forged = f"{prefix}/{token[:-1]}{'0' if token[-1] != '0' else '1'}/"
    other = User.objects.create_user(email="bob@abcinc.example", password=password)
    uid_swapped = path.replace(path.split("/")[4], password_link(other, purpose="reset").split("/")[6])
    for bad in (forged, uid_swapped, "/password/set/reset/garbage/1-2/", "/password/set/reset/MQ/nodash/"):
        assert _set(HttpClient(), bad).status_code == HTTPStatus.BAD_REQUEST, bad
    user.refresh_from_db()
    other.refresh_from_db()
    assert user.check_password(password) and other.check_password(password)


def test_a_link_for_one_purpose_does_not_work_for_another(user):
    path = password_link(user, purpose="reset").removeprefix("http://testserver")
    assert _set(HttpClient(), path.replace("/reset/", "/invitation/")).status_code == HTTPStatus.BAD_REQUEST
    assert _set(HttpClient(), path.replace("/reset/", "/other/")).status_code == HTTPStatus.BAD_REQUEST
    with pytest.raises(ValueError):
        password_link(user, purpose="other")


def test_an_expired_link_is_refused(user, settings, monkeypatch):
    path = password_link(user, purpose="reset").removeprefix("http://testserver")
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 5)
    monkeypatch.setattr("accounts.self_service._PasswordLinkTokens._now", lambda self: later)
    response = HttpClient().get(path)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"expired" in response.content


def test_invitations_last_longer_than_resets(user, settings, monkeypatch):
    reset = password_link(user, purpose="reset").removeprefix("http://testserver")
    invitation = password_link(user, purpose="invitation").removeprefix("http://testserver")
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr("accounts.self_service._PasswordLinkTokens._now", lambda self: later)
    assert HttpClient().get(reset).status_code == HTTPStatus.BAD_REQUEST
    assert HttpClient().get(invitation).status_code == HTTPStatus.OK


def test_a_blocked_person_cannot_use_a_link(user):
    path = password_link(user, purpose="reset").removeprefix("http://testserver")
    user.is_active = False
    user.save()
    assert _set(HttpClient(), path).status_code == HTTPStatus.BAD_REQUEST


def test_weak_passwords_are_refused_with_the_validators_messages(user, password):
    path = password_link(user, purpose="reset").removeprefix("http://testserver")
    http = HttpClient()
    for weak, message in [
        ("short1", b"too short"),
        ("password1234", b"too common"),
        ("123456789012345", b"entirely numeric"),
        ("alice@abcinc.example", b"too similar"),
    ]:
        response = _set(http, path, weak)
        assert response.status_code == HTTPStatus.OK
        assert message in response.content, weak
        assert b'class="field-error"' in response.content
    mismatch = _set(http, path, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert b"didn\xe2\x80\x99t match" in mismatch.content
    user.refresh_from_db()
    assert user.check_password(password)
    # The refused attempts did not spend the link.
    assert _set(http, path).status_code == HTTPStatus.FOUND


def test_using_a_link_ends_every_session_and_lifts_a_lockout(user, password, settings):
    signed_in = HttpClient()
    signed_in.force_login(user)
    assert UserSession.objects.filter(user=user).count() == 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        HttpClient().post("/login/", {"username": user.email, "password": "wrong-wrong-wrong"})
    path = password_link(user, purpose="reset").removeprefix("http://testserver")
    assert _set(HttpClient(), path).status_code == HTTPStatus.FOUND
    assert signed_in.get("/account/").status_code == HTTPStatus.FOUND
    assert not UserSession.objects.filter(user=user).exists()
    response = HttpClient().post("/login/", {"username": user.email, "password": NEW_PASSWORD})
    assert response.status_code == HTTPStatus.FOUND


def test_the_person_signed_in_in_this_browser_is_signed_out_cleanly(user):
    http = HttpClient()
    http.force_login(user)
    path = password_link(user, purpose="reset").removeprefix("http://testserver")
    response = _set(http, path)
    assert response.status_code == HTTPStatus.FOUND
    assert http.get("/account/").status_code == HTTPStatus.FOUND


def test_an_invitation_link_sets_the_first_password_and_verifies_the_email(db):
    invited = User.objects.create_user(
        email="ivy@abcinc.example", password=None, email_verified=False, invited_at=timezone.now()
    )
    path = password_link(invited, purpose="invitation").removeprefix("http://testserver")
    page = HttpClient().get(path)
    assert b"Welcome! Choose your password" in page.content
    assert _set(HttpClient(), path).status_code == HTTPStatus.FOUND
    invited.refresh_from_db()
    assert invited.check_password(NEW_PASSWORD)
    assert invited.email_verified
    assert invited.invited_at is None  # accepted: nothing pending
    assert AuditEntry.objects.filter(action="user.invitation_accept", target_id=str(invited.pk)).exists()


def test_a_new_invitation_spends_the_earlier_link(db):
    invited = User.objects.create_user(email="ivy@abcinc.example", password=None)
    first = password_link(invited, purpose="invitation").removeprefix("http://testserver")
    invited.set_unusable_password()  # what resending an invitation does
    invited.save()
    response = HttpClient().get(first)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"Ask your administrator to send the invitation again" in response.content


def test_change_password_needs_the_current_one_and_ends_other_sessions(user, password):
    other = HttpClient()
    other.force_login(user)
    http = HttpClient()
    http.force_login(user)
    wrong = http.post(
        "/account/password/",
        {"old_password": "not-it-at-all", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == HTTPStatus.OK
    assert b"Your old password was entered incorrectly" in wrong.content
    weak = http.post(
        "/account/password/", {"old_password": password, "new_password1": "abc", "new_password2": "abc"}
    )
    assert b"too short" in weak.content
    response = http.post(
        "/account/password/",
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/account/"
    assert b"1 other session signed out" in http.get("/account/").content
    assert http.get("/account/").status_code == HTTPStatus.OK
    assert other.get("/account/").status_code == HTTPStatus.FOUND
    # This browser's session got a new key (Django cycles it); its row followed.
    [row] = UserSession.objects.filter(user=user)
    assert row.session_key == http.session.session_key
    assert session_store().exists(row.session_key)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_change_password_needs_sign_in():
    response = HttpClient().get("/account/password/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/")
