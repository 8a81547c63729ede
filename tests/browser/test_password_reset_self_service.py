"""Changing one's password and signing other browsers out, in Chromium at 390 px and desktop."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
NEW_PASSWORD = "plum-orchard-lantern-42"


def _fits(page: Page, viewport: dict[str, int]) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_change_password_then_sign_out_the_other_browser(page, viewport, live_server, user, password):
    other = HttpClient(
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    )
    assert other.post("/login/", {"username": user.email, "password": password}).status_code == 302
    page.set_viewport_size(viewport)
    page.goto("/account/password/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    _fits(page, viewport)
    page.get_by_label("Current password").fill("not-my-password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your old password was entered incorrectly")).to_be_visible()
    page.get_by_label("Current password").fill(password)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed. 1 other session signed out.")).to_be_visible()
    assert other.get("/account/").status_code == 302

    # Sign in elsewhere again, then sign that browser out from the list.
    assert other.post("/login/", {"username": user.email, "password": NEW_PASSWORD}).status_code == 302
    page.goto("/account/sessions/")
    expect(page.get_by_text("This browser")).to_be_visible()
    _fits(page, viewport)
    row = page.get_by_role("row", name="Firefox on Linux")
    sign_out = row.get_by_role("button", name="Sign out")
    sign_out.scroll_into_view_if_needed()
    box = sign_out.bounding_box()
    assert box is not None and box["x"] + box["width"] <= viewport["width"]
    sign_out.click()
    expect(page.get_by_text("That session is signed out.")).to_be_visible()
    expect(page.get_by_role("row", name="Firefox on Linux")).to_have_count(0)
    assert other.get("/account/").status_code == 302
