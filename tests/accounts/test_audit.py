"""Administrative changes leave a trace: who, what, before/after, when, from where."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from accounts.models import AuditEntry
from apis.models import Api
from clients.models import Client
from clients.services import client_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client_at_address(staff_user) -> HttpClient:
    """Signed in as staff from a known address, which the audit log must record."""
    http = HttpClient(REMOTE_ADDR="203.0.113.7")
    http.force_login(staff_user)
    return http


def test_creating_an_api_in_the_dashboard_is_audited(staff_client_at_address):
    staff_client_at_address.post(
        "/dashboard/apis/new/",
        {"name": "Reports", "identifier": "https://reports.abcinc.example/api", "signing_algorithm": "RS256"},
    )
    api = Api.objects.get(system=False)
    entry = AuditEntry.objects.get(action="api.create")
    assert entry.actor_label == "admin@abcinc.example"
    assert entry.ip == "203.0.113.7"
    assert entry.target_id == str(api.pk)
    assert entry.after is not None
    assert entry.after["identifier"] == "https://reports.abcinc.example/api"


def test_settings_changes_record_before_and_after(staff_client, timesheets_api):
    staff_client.post(
        f"/dashboard/apis/{timesheets_api.pk}/settings/",
        {"name": "Timesheets", "token_lifetime": "3600", "allow_offline_access": "on"},
    )
    entry = AuditEntry.objects.get(action="api.update")
    assert entry.before is not None and entry.after is not None
    assert entry.before["token_lifetime"] == 86400
    assert entry.after["token_lifetime"] == 3600
    assert entry.before["name"] == "Timesheets API"


def test_rotating_a_client_secret_is_audited_without_the_secret(staff_client):
    client, old = client_create(app_type=Client.AppType.M2M, name="Batch")
    assert old is not None  # a machine client is confidential: it has a secret
    response = staff_client.post(
        f"/dashboard/applications/{client.pk}/credentials/rotate/", {"confirm": "on"}, follow=True
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="client.secret_rotate")
    assert entry.actor_label == "admin@abcinc.example"
    new_secret = response.context["new_secret"]
    assert new_secret not in str(entry.before) + str(entry.after)
    assert old not in str(AuditEntry.objects.values_list("before", "after"))
