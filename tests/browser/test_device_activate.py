"""/activate in Chromium, on a phone and a desktop: a person types the code a device shows,
signs in, allows the device, and the device's next poll gets its tokens. Every page on the
way passes axe."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client as HttpClient
from oauth2_provider.models import get_device_grant_model
from playwright.sync_api import expect

from authz.oauth.device import DEVICE_CODE
from clients.services import client_update
from tests.oauth import TIMESHEETS_API

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
FORM = "application/x-www-form-urlencoded"


def _start(client_id: str) -> dict:
    body = urlencode({"client_id": client_id, "scope": "openid profile", "audience": TIMESHEETS_API})
    response = HttpClient().post("/oauth/device/code", body, content_type=FORM)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _poll(client_id: str, device_code: str):
    grants = get_device_grant_model().objects.filter(device_code=device_code)
    grant = grants.get()
    grants.update(last_checked=grant.last_checked - timedelta(seconds=grant.interval))  # it waited
    body = {"grant_type": DEVICE_CODE, "device_code": device_code, "client_id": client_id}
    return HttpClient().post("/oauth/token", body)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_a_person_types_the_code_signs_in_and_allows_the_device(
    page, axe, viewport, public_client, timesheets_api, user, password
):
    client_update(client=public_client, device_code_enabled=True)
    device = _start(public_client.client_id)
    page.set_viewport_size(viewport)
    found: dict[str, list[str]] = {}

    page.goto("/activate")
    expect(page.get_by_role("heading", name="Connect a device")).to_be_visible()
    found["activate"] = axe(page)
    # A wrong code first: said so next to the field, nothing else told.
    page.get_by_label("Code shown on your device").fill("BBBB-BBBB")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not valid or has expired")).to_be_visible()
    found["wrong code"] = axe(page)
    # The right one, typed in lower case without its dash.
    page.get_by_label("Code shown on your device").fill(device["user_code"].replace("-", "").lower())
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name=public_client.name)).to_be_visible()
    expect(page.get_by_text(device["user_code"])).to_be_visible()
    found["consent"] = axe(page)
    assert _poll(public_client.client_id, device["device_code"]).json()["error"] == "authorization_pending"
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="Device connected")).to_be_visible()
    found["connected"] = axe(page)

    tokens = _poll(public_client.client_id, device["device_code"])
    assert tokens.status_code == HTTPStatus.OK, tokens.content
    assert {"access_token", "id_token"} <= set(tokens.json())
    assert not {path: v for path, v in found.items() if v}, found


def test_the_device_s_link_fills_the_code_in_and_deny_tells_the_device(
    page, axe, public_client, timesheets_api, user, password
):
    client_update(client=public_client, device_code_enabled=True)
    device = _start(public_client.client_id)
    page.set_viewport_size(PHONE)
    page.goto("/activate?" + urlsplit(device["verification_uri_complete"]).query)
    expect(page.get_by_label("Code shown on your device")).to_have_value(device["user_code"])
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("heading", name="Device denied")).to_be_visible()
    assert not axe(page)
    assert _poll(public_client.client_id, device["device_code"]).json()["error"] == "access_denied"
