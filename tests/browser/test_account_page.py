"""The account page in a real browser: a person sees the applications they allowed and
revokes one, on a phone and on a desktop."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from authz.models import Consent
from authz.services import consent_remember

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_a_person_revokes_an_application_they_allowed(
    page, viewport, user, password, public_client, timesheets_api
):
    consent = consent_remember(
        user=user,
        client=public_client,
        audience=timesheets_api.identifier,
        scopes=["openid", "offline_access", "read:timesheets"],
    )
    page.set_viewport_size(viewport)
    page.goto("/account/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Applications you allowed")).to_be_visible()

    consents = page.locator("#account-consents")
    row = consents.get_by_role("row", name="Timesheets Mobile (test)")
    expect(row).to_be_visible()
    expect(row).to_contain_text(timesheets_api.identifier)
    expect(row).to_contain_text("read:timesheets")
    revoke = row.get_by_role("button", name="Revoke consent for Timesheets Mobile (test)")
    expect(revoke).to_be_visible()
    revoke.scroll_into_view_if_needed()
    expect(revoke).to_be_in_viewport()
    # Nothing sticks out sideways: the row and its button fit the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    box = revoke.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]

    page.evaluate("window.noReload = true")
    page.once("dialog", lambda dialog: dialog.accept())
    revoke.click()

    expect(consents.get_by_role("status")).to_contain_text("Consent for “Timesheets Mobile (test)” revoked")
    expect(row).to_have_count(0)
    expect(consents).to_contain_text("You have not allowed any application")
    assert page.evaluate("window.noReload") is True  # htmx swapped the list in place
    assert not Consent.objects.filter(pk=consent.pk).exists()
