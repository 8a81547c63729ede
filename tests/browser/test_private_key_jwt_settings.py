"""An administrator switches a batch job to private_key_jwt in Chromium: a private key pasted by
mistake is refused next to the field, the public JWKS is saved, and the Quickstart shows the
Python program that signs the assertion; axe-clean at 390px and on a desktop."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from apis.services import api_create
from clients import services
from clients.models import Client
from tests.security.pkjwt import KeyPair

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 800}])
def test_staff_registers_a_jwks_and_sees_the_python_quickstart(page, axe, staff_user, password, viewport):
    page.set_viewport_size(viewport)
    api = api_create(
        identifier="https://payroll.abcinc.example/api", name="Payroll API", scopes={"read:pay": "Read"}
    )
    client, _ = services.client_create(app_type=Client.AppType.M2M, name="Payroll sync")
    services.client_grant_set(client=client, api=api, scopes=["read:pay"])
    key = KeyPair.new("ES256")

    page.goto(f"/dashboard/applications/{client.pk}/?tab=settings")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Payroll sync")).to_be_visible()

    page.get_by_label("Token endpoint authentication").select_option("private_key_jwt")
    page.get_by_label("Public keys (JWKS)").fill(json.dumps({"keys": [key.private_jwk()]}))
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_jwks_error")).to_contain_text("private key")
    assert axe(page) == []
    client.refresh_from_db()
    assert client.token_endpoint_auth_method == Client.AuthMethod.BASIC

    page.get_by_label("Public keys (JWKS)").fill(json.dumps(key.jwks()))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    client.refresh_from_db()
    assert client.token_endpoint_auth_method == Client.AuthMethod.PRIVATE_KEY_JWT
    assert client.jwks == key.jwks()

    page.goto(f"/dashboard/applications/{client.pk}/?tab=quickstart")
    program = page.locator("#qs-python")
    expect(program).to_contain_text(f'CLIENT_ID = "{client.client_id}"')
    expect(program).to_contain_text(f'KEY_ID = "{key.kid}"')
    expect(program).to_contain_text('ALGORITHM = "ES256"')
    expect(page.locator("#qs-curl")).to_contain_text("client_assertion=$CLIENT_ASSERTION")
    expect(page.locator("#qs-curl")).not_to_contain_text("CLIENT_SECRET")
    assert axe(page) == []
