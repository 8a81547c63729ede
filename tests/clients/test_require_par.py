"""An application that accepts authorization requests only through /oauth/par (RFC 9126):
its setting on the dashboard, in the Management API and in configuration files. What it
does at /authorize: tests/security/test_par.py."""

from __future__ import annotations

import html
import json
import re
from http import HTTPStatus

import pytest

from accounts.models import AuditEntry
from apis.models import Api
from apis.system import MANAGEMENT_SCOPES
from authz.transfer import apply_import, export_config, load_config, plan_import
from clients import services
from clients.models import Client
from tests.management.conftest import ManagementCaller
from tests.oauth import MOBILE_CALLBACK, client_credentials

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api() -> ManagementCaller:
    """A Management API caller holding every scope, with a token from /oauth/token."""
    management = Api.objects.get(system=True)
    client, secret = services.client_create(app_type=Client.AppType.M2M, name="Provisioner")
    services.client_grant_set(client=client, api=management, scopes=tuple(MANAGEMENT_SCOPES))
    response = client_credentials(client.client_id, secret or "", audience=management.identifier)
    assert response.status_code == HTTPStatus.OK, response.content
    return ManagementCaller(response.json()["access_token"], client.client_id)


@pytest.fixture
def native_app() -> Client:
    client, _ = services.client_create(
        app_type=Client.AppType.NATIVE, name="Timesheets Mobile", redirect_uris=[MOBILE_CALLBACK]
    )
    return client


@pytest.fixture
def m2m_app() -> Client:
    client, _ = services.client_create(app_type=Client.AppType.M2M, name="Payroll Batch")
    return client


def _settings(client: Client, **changes: str) -> dict[str, str]:
    return {
        "name": client.name,
        "redirect_uris": client.redirect_uris,
        "refresh_token_absolute_lifetime": str(client.refresh_token_absolute_lifetime),
        "refresh_token_idle_lifetime": str(client.refresh_token_idle_lifetime),
        "rotate_refresh_token": "on",
        **changes,
    }


def test_the_settings_tab_offers_the_box_unticked(staff_client, native_app):
    assert native_app.require_par is False
    page = html.unescape(
        staff_client.get(f"/dashboard/applications/{native_app.pk}/?tab=settings").content.decode()
    )
    box = re.search(r'<input type="checkbox" name="require_par"[^>]*id="id_require_par">', page)
    assert box is not None and "checked" not in box.group(0)
    assert "Require pushed authorization requests" in page
    assert "Accept authorization requests only through /oauth/par." in page


def test_ticking_it_saves_and_audits(staff_client, staff_user, native_app):
    url = f"/dashboard/applications/{native_app.pk}/settings/"
    response = staff_client.post(url, _settings(native_app, require_par="on"))
    assert response.status_code == HTTPStatus.FOUND
    native_app.refresh_from_db()
    assert native_app.require_par is True
    entry = AuditEntry.objects.filter(action="client.update").latest("id")
    assert entry.actor == staff_user
    assert entry.before is not None and entry.after is not None
    assert (entry.before["require_par"], entry.after["require_par"]) == (False, True)

    staff_client.post(url, _settings(native_app))  # an unticked box
    native_app.refresh_from_db()
    assert native_app.require_par is False


def test_a_machine_application_has_no_such_setting(staff_client, admin_api, m2m_app):
    form = staff_client.get(f"/dashboard/applications/{m2m_app.pk}/").context["settings_form"]
    assert "require_par" not in form.fields
    refused = admin_api.patch(f"clients/{m2m_app.client_id}", {"require_par": True})
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    errors = {error["pointer"]: error["detail"] for error in refused.json()["errors"]}
    assert errors == {"#/require_par": "A Machine to Machine application has no such setting."}


def test_the_api_shows_changes_and_creates_it(admin_api, native_app):
    assert admin_api.get(f"clients/{native_app.client_id}").json()["require_par"] is False
    changed = admin_api.patch(f"clients/{native_app.client_id}", {"require_par": True})
    assert changed.status_code == HTTPStatus.OK, changed.content
    assert changed.json()["require_par"] is True
    native_app.refresh_from_db()
    assert native_app.require_par is True
    bad = admin_api.patch(f"clients/{native_app.client_id}", {"require_par": "sometimes"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST

    body = {
        "name": "Approvals",
        "app_type": "native",
        "redirect_uris": [MOBILE_CALLBACK],
        "require_par": True,
    }
    created = admin_api.post("clients", body)
    assert created.status_code == HTTPStatus.CREATED, created.content
    assert Client.objects.get(client_id=created.json()["client_id"]).require_par is True


def _application(data: dict, client_id: str) -> dict:
    return next(entry for entry in data["applications"] if entry["client_id"] == client_id)


def test_export_and_import_round_trip(native_app):
    services.client_update(client=native_app, require_par=True)
    text = json.dumps(export_config())
    assert _application(json.loads(text), native_app.client_id)["require_par"] is True
    services.client_delete(actor=None, client=native_app)

    apply_import(actor=None, plan=plan_import(load_config(text)))

    assert Client.objects.get(client_id=native_app.client_id).require_par is True
    assert json.dumps(export_config()) == text
