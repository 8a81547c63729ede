"""The signing keys' schedule on an API's Signing tab, as an administrator sees it in
Chromium at desktop width and on a phone: the period, the next key the beat task published,
the next rotation, and "Rotate signing keys" putting that published key to work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from apis.key_schedule import Outcome, signing_keys_rotate_due
from apis.keys import RS256, current_keys, next_keys, signing_key_current

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "390px"])
@override_settings(SIGNING_KEY_ROTATION_DAYS=90, SIGNING_KEY_PUBLISH_LEAD_DAYS=7)
def test_the_schedule_shows_the_published_next_key_and_rotating_puts_it_to_work(
    page, staff_user, password, timesheets_api, viewport
):
    current = signing_key_current(RS256)
    assert current.activated_at is not None
    # 84 days on: the beat task publishes the next key a week before the switch.
    assert signing_keys_rotate_due(now=current.activated_at + timedelta(days=84)) == Outcome.PUBLISHED
    upcoming = next_keys().get(algorithm=RS256)

    page.set_viewport_size(viewport)
    page.goto(f"/dashboard/apis/{timesheets_api.pk}/?tab=signing")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    schedule = page.locator("#signing-key-schedule")
    expect(schedule).to_contain_text("Rotates every 90 days")
    expect(schedule).to_contain_text("published in the JWKS 7 days before it signs")
    expect(schedule.locator("dd").nth(1)).to_contain_text(current.kid)
    expect(schedule.locator("dd").nth(2)).to_contain_text(upcoming.kid)
    expect(schedule.locator("dd").nth(3)).to_contain_text("when the next key starts to sign")
    # Long key ids wrap: nothing on the page scrolls sideways, on a phone either.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    page.get_by_label("I understand that this rotates the server's signing keys").check()
    page.get_by_role("button", name="Rotate signing keys").click()

    expect(page.get_by_role("status")).to_contain_text(f"New signing keys are current (RSA {upcoming.kid})")
    expect(schedule.locator("dd").nth(1)).to_contain_text(upcoming.kid)
    assert current_keys().get(algorithm=RS256).kid == upcoming.kid
