"""Copy buttons put the real value on the clipboard, and the API page's Test tab issues a
token and shows its claims, on a phone (390 px) and on a desktop, in real Chromium."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from clients import services as client_services
from clients.models import Client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _sign_in(page, user, password, path: str) -> None:
    page.goto(path)
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def _within(page, locator, viewport) -> None:
    """Reachable without scrolling sideways: inside the viewport's width."""
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 0.5, box


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_copy_buttons_and_the_api_test_tab(
    page, live_server, axe, staff_user, password, timesheets_api, viewport
):
    page.set_viewport_size(viewport)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    _sign_in(page, staff_user, password, "/dashboard/applications/new/")

    # A new machine application: its secret is shown once, with a Copy button.
    page.get_by_label("Name").fill("Payroll Batch")
    page.get_by_label("Machine to Machine").check()
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"\?tab=credentials$"))
    secret = page.locator("#client-secret").inner_text()
    assert len(secret) > 20
    copy = page.get_by_role("button", name="Copy the client secret")
    _within(page, copy, viewport)
    copy.click()
    expect(page.locator("#client-secret ~ [data-copy-status]")).to_have_text("Copied")
    assert _clipboard(page) == secret
    assert axe(page) == []  # with the status the click added

    client = Client.objects.get(name="Payroll Batch")
    page.locator("dd").get_by_role("button", name="Copy the client ID").click()
    assert _clipboard(page) == client.client_id

    # Authorized to call the Timesheets API, it is offered on the API's Test tab.
    client_services.client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    page.goto(f"/dashboard/apis/{timesheets_api.pk}/?tab=quickstart")
    page.get_by_role("button", name="Copy the Node snippet").click()
    node = _clipboard(page)
    assert f'const AUDIENCE = "{timesheets_api.identifier}";' in node
    assert node.startswith("import { createRemoteJWKSet, jwtVerify }")

    page.get_by_role("navigation", name="API sections").get_by_role("link", name="Test").click()
    expect(page).to_have_url(re.compile(rf"/dashboard/apis/{timesheets_api.pk}/test/$"))
    page.get_by_label("Machine to Machine application").select_option(
        label=f"Payroll Batch ({client.client_id})"
    )
    issue = page.get_by_role("button", name="Issue a test token")
    _within(page, issue, viewport)
    issue.click()
    expect(page.get_by_role("heading", name="Token for Payroll Batch")).to_be_visible()
    claims = json.loads(page.locator("#test-claims").inner_text())
    assert claims["aud"] == timesheets_api.identifier
    assert claims["sub"] == f"{client.client_id}@clients"
    assert claims["scope"] == "read:timesheets"
    assert json.loads(page.locator("#test-header").inner_text())["typ"] == "at+jwt"
    copy = page.get_by_role("button", name="Copy the claims")
    _within(page, copy, viewport)
    copy.click()
    expect(page.locator(".snippet-bar:has(+ #test-claims) [data-copy-status]")).to_have_text("Copied")
    assert json.loads(_clipboard(page)) == claims
    assert axe(page) == []
