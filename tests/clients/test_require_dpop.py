"""The "require DPoP" application setting on the dashboard's settings tab (RFC 9449): every
application type offers it, and the token endpoint then refuses a request without a proof
(tests/security/test_dpop.py)."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from clients.models import Client

pytestmark = pytest.mark.django_db

SETTINGS = {
    Client.AppType.NATIVE: {
        "name": "Timesheets Mobile (test)",
        "redirect_uris": "com.abcinc.timesheets://callback",
        "refresh_token_absolute_lifetime": "86400",
        "refresh_token_idle_lifetime": "3600",
    },
    Client.AppType.M2M: {
        "name": "Timesheets Batch (test)",
        "token_endpoint_auth_method": "client_secret_basic",
    },
}


@pytest.mark.parametrize("fixture", ["public_client", "confidential_client"])
def test_the_settings_tab_turns_require_dpop_on_and_off(staff_client, request, fixture):
    found = request.getfixturevalue(fixture)
    client: Client = found[0] if isinstance(found, tuple) else found
    url = f"/dashboard/applications/{client.pk}/settings/"
    page = staff_client.get(f"/dashboard/applications/{client.pk}/?tab=settings").content.decode()
    assert 'name="require_dpop"' in page
    data = dict(SETTINGS[Client.AppType(client.app_type)])
    on = staff_client.post(url, {**data, "require_dpop": "on"})
    assert on.status_code in (HTTPStatus.OK, HTTPStatus.FOUND), on.content
    client.refresh_from_db()
    assert client.require_dpop is True
    staff_client.post(url, data)  # an unticked checkbox sends nothing
    client.refresh_from_db()
    assert client.require_dpop is False
