"""The Management API's device_code_enabled (RFC 8628): read, set, refused where no person
signs in at a device."""

from __future__ import annotations

from http import HTTPStatus

from tests.management.conftest import ManagementCaller


def test_the_management_api_reads_and_sets_it(
    admin_api: ManagementCaller, public_client, confidential_client
):
    assert admin_api.get("clients/test-mobile").json()["device_code_enabled"] is False
    changed = admin_api.patch("clients/test-mobile", {"device_code_enabled": True})
    assert changed.status_code == HTTPStatus.OK, changed.content
    assert changed.json()["device_code_enabled"] is True
    refused = admin_api.patch("clients/test-batch", {"device_code_enabled": True})
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    errors = refused.json()["errors"]
    assert errors == [
        {
            "pointer": "#/device_code_enabled",
            "detail": "A Machine to Machine application has no such setting.",
        }
    ]
