"""Email verification: a signed, expiring link with the address inside."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.core import mail, signing
from django.test import Client as HttpClient

from accounts.claims import user_claims
from accounts.self_service import email_verification_link

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/email/verify/\S+/)")


@pytest.fixture
def unverified(user):
    user.email_verified = False
    user.save()
    return user


def _path(user) -> str:
    return email_verification_link(user).removeprefix("http://testserver")


def test_the_signed_in_person_asks_for_a_link_and_confirms(unverified, django_capture_on_commit_callbacks):
    http = HttpClient()
    http.force_login(unverified)
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post("/account/email/verify/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/account/"
    [message] = mail.outbox
    assert message.to == [unverified.email]
    match = LINK.search(str(message.body))
    assert match
    # A GET (a mail scanner fetching the link) confirms nothing.
    anonymous = HttpClient()
    page = anonymous.get(match.group(1))
    assert page.status_code == HTTPStatus.OK
    unverified.refresh_from_db()
    assert not unverified.email_verified
    done = anonymous.post(match.group(1))
    assert b"Email confirmed" in done.content
    unverified.refresh_from_db()
    assert unverified.email_verified
    assert user_claims(unverified)["email_verified"] is True


def test_asking_needs_sign_in_and_a_post(unverified):
    assert HttpClient().post("/account/email/verify/").status_code == HTTPStatus.FOUND
    http = HttpClient()
    http.force_login(unverified)
    assert http.get("/account/email/verify/").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_an_already_verified_email_sends_nothing(user, django_capture_on_commit_callbacks):
    http = HttpClient()
    http.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        http.post("/account/email/verify/")
    assert mail.outbox == []


def test_a_link_for_a_former_email_does_not_verify_the_new_one(unverified):
    path = _path(unverified)
    unverified.email = "alice.new@abcinc.example"
    unverified.save()
    response = HttpClient().post(path)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"no longer your account" in response.content
    unverified.refresh_from_db()
    assert not unverified.email_verified


def test_a_tampered_link_is_refused(unverified):
    path = _path(unverified)
    token = path.split("/")[3]
    forged = signing.TimestampSigner(salt="another-salt").sign_object(
        {"u": unverified.pk, "e": unverified.email}
    )
    for bad in (f"/email/verify/{token[:-2]}xx/", f"/email/verify/{forged}/", "/email/verify/garbage/"):
        response = HttpClient().post(bad)
        assert response.status_code == HTTPStatus.BAD_REQUEST, bad
        assert b"This link does not work" in response.content
    unverified.refresh_from_db()
    assert not unverified.email_verified


def test_an_expired_link_is_refused(unverified, settings):
    path = _path(unverified)
    settings.EMAIL_VERIFICATION_TIMEOUT = -1
    response = HttpClient().post(path)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"It has expired" in response.content
    unverified.refresh_from_db()
    assert not unverified.email_verified


def test_a_blocked_person_cannot_verify(unverified):
    path = _path(unverified)
    unverified.is_active = False
    unverified.save()
    assert HttpClient().post(path).status_code == HTTPStatus.BAD_REQUEST


def test_asking_again_and_again_is_limited(unverified, settings, django_capture_on_commit_callbacks):
    settings.PASSWORD_RESET_PER_EMAIL = 2
    http = HttpClient()
    http.force_login(unverified)
    with django_capture_on_commit_callbacks(execute=True):
        assert http.post("/account/email/verify/").status_code == HTTPStatus.FOUND
        assert http.post("/account/email/verify/").status_code == HTTPStatus.FOUND
        response = http.post("/account/email/verify/")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert len(mail.outbox) == 2
