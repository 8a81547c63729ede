"""/api/v2/clients and configuration files with require_dpop (RFC 9449)."""

from __future__ import annotations

from http import HTTPStatus

from authz.transfer import export_config


def test_the_management_api_sets_and_shows_require_dpop(admin_api):
    created = admin_api.post("clients", {"name": "Bound batch", "app_type": "m2m", "require_dpop": True})
    assert created.status_code == HTTPStatus.CREATED, created.content
    client_id = created.json()["client_id"]
    assert admin_api.get(f"clients/{client_id}").json()["require_dpop"] is True
    changed = admin_api.patch(f"clients/{client_id}", {"require_dpop": False})
    assert changed.status_code == HTTPStatus.OK, changed.content
    assert changed.json()["require_dpop"] is False
    refused = admin_api.patch(f"clients/{client_id}", {"require_dpop": "sometimes"})
    assert refused.status_code == HTTPStatus.BAD_REQUEST


def test_configuration_files_carry_require_dpop(admin_api):
    created = admin_api.post("clients", {"name": "Bound batch", "app_type": "m2m", "require_dpop": True})
    client_id = created.json()["client_id"]
    entry = next(app for app in export_config()["applications"] if app["client_id"] == client_id)
    assert entry["require_dpop"] is True
