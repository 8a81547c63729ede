"""Failures recorded before redaction existed lose what was typed, unless it was an email."""

from __future__ import annotations

import importlib

import pytest
from axes.models import AccessAttempt
from django.apps import apps

from accounts.identifiers import recorded_identifier
from accounts.models import AuditEntry

pytestmark = pytest.mark.django_db
migration = importlib.import_module("accounts.migrations.0006_redact_typed_identifiers")


def test_old_failures_keep_emails_and_lose_typed_passwords():
    password = "Correct-Horse-9!"  # what someone typed into the email field
    typed = AuditEntry.objects.create(
        actor_label="system",
        action="security.login_failure",
        target_label=password,
        after={"path": "/login/"},
    )
    locked = AuditEntry.objects.create(
        actor_label="system",
        action="security.lockout",
        target_label=password,
        after={"username": password, "ip_address": "203.0.113.5"},
    )
    email = AuditEntry.objects.create(
        actor_label="system", action="security.login_failure", target_label="alice@abcinc.example"
    )
    attempt = AccessAttempt.objects.create(
        username=password, ip_address="203.0.113.5", user_agent="x", failures_since_start=3
    )

    migration.redact(apps, None)

    for entry in (typed, locked):
        entry.refresh_from_db()
        assert entry.target_label == recorded_identifier(password)
        assert password not in str(entry.after)
    assert locked.after is not None
    assert locked.after["username"] == recorded_identifier(password)
    email.refresh_from_db()
    assert email.target_label == "alice@abcinc.example"
    attempt.refresh_from_db()
    assert attempt.username == recorded_identifier(password)
    assert password not in str(AccessAttempt.objects.values_list("username", flat=True))
