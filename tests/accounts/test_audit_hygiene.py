"""The audit log holds no typed passwords, cannot be flooded with denials, and records
sign-ins and sign-outs (issue 13, point 7)."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from axes.models import AccessAttempt
from django.test import Client as HttpClient

from accounts.models import AuditEntry

pytestmark = pytest.mark.django_db

SECRET = "Tr0ub4dor&3-my-real-password"


def _fail(http: HttpClient, identifier: str):
    return http.post("/login/", {"username": identifier, "password": "wrong-password"})


def test_a_password_typed_into_the_email_field_is_not_stored(settings, staff_client):
    http = HttpClient(REMOTE_ADDR="203.0.113.40")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _fail(http, SECRET)
    for entry in AuditEntry.objects.filter(action__startswith="security."):
        assert SECRET not in entry.target_label
        assert SECRET not in str(entry.after)
    assert AuditEntry.objects.filter(action="security.login_failure").count() == settings.AXES_FAILURE_LIMIT
    for attempt in AccessAttempt.objects.all():
        assert SECRET not in (attempt.username or "")
        assert SECRET not in attempt.post_data
    assert SECRET.encode() not in staff_client.get("/dashboard/lockouts/").content
    assert SECRET.encode() not in staff_client.get("/dashboard/audit/").content


def test_a_valid_email_is_recorded_normalised(user):
    _fail(HttpClient(), " Alice@ABCINC.example ")
    entry = AuditEntry.objects.get(action="security.login_failure")
    assert entry.target_label == "alice@abcinc.example"


def test_repeated_denials_coalesce_into_one_entry_with_a_count(user_client, user):
    for _ in range(30):
        assert user_client.get("/dashboard/").status_code == HTTPStatus.FORBIDDEN
    denials = AuditEntry.objects.filter(action="security.dashboard_denied", actor=user)
    assert denials.count() == 1
    entry = denials.get()
    assert entry.after is not None
    assert entry.after["count"] == 30
    # Another path is another entry.
    user_client.get("/dashboard/apis/")
    assert denials.count() == 2


def test_a_sign_in_and_a_sign_out_are_audited(user, password):
    http = HttpClient(REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="Firefox/140")
    assert (
        http.post("/login/", {"username": user.email, "password": password}).status_code == HTTPStatus.FOUND
    )
    login = AuditEntry.objects.get(action="security.login")
    assert login.actor == user and login.ip == "198.51.100.23"
    assert login.after is not None and login.after["user_agent"] == "Firefox/140"
    http.post("/logout/")
    logout = AuditEntry.objects.get(action="security.logout")
    assert logout.actor == user and logout.ip == "198.51.100.23"
    assert logout.after is not None and logout.after["user_agent"] == "Firefox/140"
