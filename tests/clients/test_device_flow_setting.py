"""The application setting device_code_enabled (RFC 8628): on the settings tab of the apps
people sign in to, in the Management API and in configuration files; refused for the others."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError

from accounts.audit import AuditEntry
from clients.models import Client
from clients.services import client_create, client_update

ONLY = "Only native and regular web applications can sign people in with the device flow."


def test_the_settings_tab_turns_the_device_flow_on(staff_client, public_client):
    url = f"/dashboard/applications/{public_client.pk}/settings/"
    page = staff_client.get(f"/dashboard/applications/{public_client.pk}/?tab=settings").content.decode()
    assert "Allow the device flow" in page
    response = staff_client.post(
        url,
        {
            "name": public_client.name,
            "redirect_uris": public_client.redirect_uris,
            "refresh_token_absolute_lifetime": str(public_client.refresh_token_absolute_lifetime),
            "refresh_token_idle_lifetime": str(public_client.refresh_token_idle_lifetime),
            "rotate_refresh_token": "on",
            "device_code_enabled": "on",
        },
    )
    assert response.status_code == HTTPStatus.FOUND, response.content
    public_client.refresh_from_db()
    assert public_client.device_code_enabled is True
    entry = AuditEntry.objects.filter(action="client.update").latest("pk")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["device_code_enabled"], entry.after["device_code_enabled"]) == (False, True)


@pytest.mark.parametrize("app_type", [Client.AppType.SPA, Client.AppType.M2M])
def test_applications_without_a_person_at_a_device_cannot_have_it(db, app_type):
    callbacks = ["https://spa.abcinc.example/cb"] if app_type == Client.AppType.SPA else []
    client, _ = client_create(app_type=app_type, name="Not a device", redirect_uris=callbacks)
    with pytest.raises(ValidationError) as refused:
        client_update(client=client, device_code_enabled=True)
    assert refused.value.message_dict == {"device_code_enabled": [ONLY]}
    client.refresh_from_db()
    assert client.device_code_enabled is False
