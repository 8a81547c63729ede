from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

pytestmark = pytest.mark.django_db


def test_login_page_is_ours_not_the_django_admin():
    response = HttpClient().get("/login/")
    assert response.status_code == HTTPStatus.OK
    assert b"Sign in with your work email" in response.content
    assert b"Django administration" not in response.content


def test_login_with_email_in_any_case_rotates_the_session(user, password):
    http = HttpClient()
    http.get("/login/")
    before = http.session.session_key
    response = http.post("/login/", {"username": "ALICE@abcinc.example", "password": password})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/time/"
    assert http.session.session_key != before
    assert http.get("/account/").context["user"] == user


def test_wrong_password_shows_an_inline_error_and_no_session(user):
    http = HttpClient()
    response = http.post("/login/", {"username": user.email, "password": "not-the-password"})
    assert response.status_code == HTTPStatus.OK
    assert b'role="alert"' in response.content
    assert b"correct email address and password" in response.content
    assert "_auth_user_id" not in http.session


def test_login_does_not_redirect_off_site(user, password):
    response = HttpClient().post(
        "/login/?next=https://evil.example/", {"username": user.email, "password": password}
    )
    assert response["Location"] == "/time/"


def test_logout_needs_post(user_client):
    assert user_client.get("/logout/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert user_client.get("/account/").status_code == HTTPStatus.OK
    assert user_client.post("/logout/").status_code == HTTPStatus.FOUND
    assert user_client.get("/account/").status_code == HTTPStatus.FOUND


def test_account_page_shows_the_oidc_claims(user_client, user):
    response = user_client.get("/account/")
    assert response.context["claims"]["sub"] == str(user.sub)
    assert str(user.sub).encode() in response.content


def test_an_expired_session_sends_htmx_requests_to_login_not_into_the_fragment(db):
    response = HttpClient().post(
        "/time/week/2026-11-16/add/",
        {"project": "Apollo"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/time/week/2026-11-16/",
    )
    assert response["HX-Redirect"] == "/login/?next=%2Ftime%2Fweek%2F2026-11-16%2F"
    assert b"<form" not in response.content
