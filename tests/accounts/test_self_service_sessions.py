"""A person's own signed-in browsers: list them, sign one out, or all the others."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from accounts.models import AuditEntry, User, UserSession
from accounts.self_service import browser_label

pytestmark = pytest.mark.django_db


def _signed_in(user, agent: str) -> HttpClient:
    http = HttpClient(HTTP_USER_AGENT=agent)
    response = http.post("/login/", {"username": user.email, "password": "correct-horse-battery-staple"})
    assert response.status_code == HTTPStatus.FOUND
    return http


def test_the_list_shows_each_browser_and_marks_this_one(user):
    phone = _signed_in(user, "Phone Safari")
    _signed_in(user, "Desktop Firefox")
    page = phone.get("/account/sessions/")
    assert page.status_code == HTTPStatus.OK
    assert b"Phone Safari" in page.content and b"Desktop Firefox" in page.content
    assert page.content.count(b"This browser") == 1
    # One session's own Sign out (the other is this browser); the page's menu has one more.
    assert page.content.count(b'class="button small danger" aria-label="Sign out ') == 1


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1",
            "Safari on iPhone",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36 Edg/131.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
            "Chrome on macOS",
        ),
        ("curl/8.5.0", "Unknown browser"),
    ],
)
def test_browsers_are_named_as_people_know_them(agent, label):
    assert browser_label(agent) == label


def test_sign_out_one_other_browser(user):
    phone = _signed_in(user, "Phone Safari")
    desktop = _signed_in(user, "Desktop Firefox")
    row = UserSession.objects.get(user=user, user_agent="Desktop Firefox")
    response = phone.post(f"/account/sessions/{row.pk}/sign-out/")
    assert response.status_code == HTTPStatus.FOUND
    assert desktop.get("/account/").status_code == HTTPStatus.FOUND
    assert phone.get("/account/").status_code == HTTPStatus.OK
    assert AuditEntry.objects.filter(action="session.end", target_id=str(user.pk)).exists()


def test_sign_out_all_others_keeps_this_one(user):
    phone = _signed_in(user, "Phone Safari")
    others = [_signed_in(user, f"Browser {n}") for n in range(2)]
    response = phone.post("/account/sessions/sign-out-others/")
    assert response.status_code == HTTPStatus.FOUND
    assert b"2 other sessions signed out" in phone.get("/account/sessions/").content
    assert all(other.get("/account/").status_code == HTTPStatus.FOUND for other in others)
    assert list(UserSession.objects.filter(user=user).values_list("user_agent", flat=True)) == [
        "Phone Safari"
    ]


def test_signing_out_this_browser_from_the_list_signs_it_out(user):
    phone = _signed_in(user, "Phone Safari")
    row = UserSession.objects.get(user=user)
    assert phone.post(f"/account/sessions/{row.pk}/sign-out/")["Location"] == "/login/"
    assert phone.get("/account/").status_code == HTTPStatus.FOUND


def test_someone_elses_session_is_a_404_and_stays(user, password):
    bob = User.objects.create_user(email="bob@abcinc.example", password=password)
    bobs = _signed_in(bob, "Bob's browser")
    row = UserSession.objects.get(user=bob)
    alice = _signed_in(user, "Alice's browser")
    assert alice.post(f"/account/sessions/{row.pk}/sign-out/").status_code == HTTPStatus.NOT_FOUND
    assert bobs.get("/account/").status_code == HTTPStatus.OK
    assert b"Bob&#x27;s browser" not in alice.get("/account/sessions/").content


def test_the_pages_need_sign_in_and_writes_need_post(user_client):
    assert HttpClient().get("/account/sessions/").status_code == HTTPStatus.FOUND
    assert HttpClient().post("/account/sessions/sign-out-others/").status_code == HTTPStatus.FOUND
    assert user_client.get("/account/sessions/sign-out-others/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
