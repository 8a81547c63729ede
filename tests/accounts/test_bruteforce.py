"""Guessing passwords and client secrets is throttled and locked out."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from accounts.models import AuditEntry
from tests.oauth import basic_auth

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("steady_rate_window")]


def _login(http: HttpClient, email: str, password: str):
    return http.post("/login/", {"username": email, "password": password})


def test_an_account_is_locked_after_five_failures_even_with_the_right_password(user, password, settings):
    http = HttpClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(http, user.email, "wrong-password").status_code == HTTPStatus.OK
    locked = _login(http, user.email, "wrong-password")
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(locked["Retry-After"]) == 15 * 60
    assert b"Too many attempts" in locked.content

    # The right password does not get through while the lockout lasts, from anywhere.
    elsewhere = HttpClient(REMOTE_ADDR="198.51.100.9")
    assert _login(elsewhere, user.email, password).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "_auth_user_id" not in elsewhere.session


def test_an_address_is_locked_whatever_account_it_tries(user, password, settings):
    # Issue 13, point 2: an address alone is stopped only at its own, much higher limit
    # (LOGIN_ADDRESS_FAILURE_LIMIT), never at one account's five.
    attacker = HttpClient(REMOTE_ADDR="203.0.113.66")
    for index in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        _login(attacker, f"guess{index}@abcinc.example", "wrong-password")
    locked = _login(attacker, user.email, password)
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert b"Too many attempts" in locked.content
    assert "_auth_user_id" not in attacker.session
    # Someone else, elsewhere, still signs in.
    assert _login(HttpClient(), user.email, password).status_code == HTTPStatus.FOUND


def test_the_login_page_is_rate_limited_per_address(user, settings):
    settings.RATE_LIMIT_PER_IP = 3
    settings.AXES_FAILURE_LIMIT = 100
    http = HttpClient(REMOTE_ADDR="192.0.2.10")
    for _ in range(3):
        assert _login(http, user.email, "wrong-password").status_code == HTTPStatus.OK
    limited = _login(http, user.email, "wrong-password")
    assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 0 < int(limited["Retry-After"]) <= 60


def test_wrong_client_secrets_are_throttled_per_client_and_address(
    confidential_client, timesheets_api, settings
):
    client, secret = confidential_client
    body = {"grant_type": "client_credentials", "audience": timesheets_api.identifier}
    for _ in range(settings.RATE_LIMIT_CLIENT_FAILURES):
        response = HttpClient(REMOTE_ADDR="198.51.100.20").post(
            "/oauth/token", body, HTTP_AUTHORIZATION=basic_auth(client.client_id, "wrong")
        )
        assert response.status_code == HTTPStatus.UNAUTHORIZED
    # From now on even the right secret waits there: nothing reaches the slow secret check
    # (another address is not affected: tests/security/test_client_failure_limits.py).
    throttled = HttpClient(REMOTE_ADDR="198.51.100.20").post(
        "/oauth/token", body, HTTP_AUTHORIZATION=basic_auth(client.client_id, secret)
    )
    assert throttled.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert throttled["Retry-After"]
    assert throttled.json()["error"] == "temporarily_unavailable"


def test_the_token_endpoint_is_rate_limited_per_address(confidential_client, settings):
    settings.RATE_LIMIT_PER_IP = 2
    client, secret = confidential_client
    http = HttpClient(REMOTE_ADDR="192.0.2.44")
    for _ in range(2):
        http.post(
            "/oauth/token",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
        )
    response = http.post("/oauth/token", {"grant_type": "client_credentials"})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_failures_and_lockouts_are_security_events(user, settings):
    http = HttpClient(REMOTE_ADDR="203.0.113.80")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(http, user.email, "wrong-password")
    failures = AuditEntry.objects.filter(action="security.login_failure")
    assert failures.count() == settings.AXES_FAILURE_LIMIT
    assert {entry.ip for entry in failures} == {"203.0.113.80"}
    lockout = AuditEntry.objects.get(action="security.lockout")
    assert lockout.after is not None
    assert lockout.after["username"] == user.email


def test_lockouts_are_visible_and_clearable_in_the_dashboard(user, password, staff_user, settings):
    http = HttpClient(REMOTE_ADDR="203.0.113.90")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(http, user.email, "wrong-password")
    assert _login(http, user.email, password).status_code == HTTPStatus.TOO_MANY_REQUESTS

    admin = HttpClient()
    admin.force_login(staff_user)
    page = admin.get("/dashboard/lockouts/")
    assert user.email.encode() in page.content and b"locked" in page.content
    attempt = page.context["attempts"][0]
    assert admin.post(f"/dashboard/lockouts/{attempt.pk}/clear/").status_code == HTTPStatus.FOUND

    assert _login(http, user.email, password).status_code == HTTPStatus.FOUND
    assert AuditEntry.objects.filter(action="security.lockout_cleared", actor=staff_user).exists()
