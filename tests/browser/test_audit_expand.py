"""The audit log in Chromium: a long before/after value expands in full, on a phone at 390 px
and on a desktop, without the page scrolling sideways."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from playwright.sync_api import expect

from accounts.audit import audit_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# Long, and in part without a space to break at: a redirect URL list as an application holds it.
LONG_VALUE = " ".join(
    f"https://app{number}.abcinc.example/callback?state=keep-this-part-of-the-address-{number}"
    for number in range(8)
)

# From the element up: no box that scrolls (or clips) holds content wider than itself.
NOTHING_SCROLLS_SIDEWAYS = """el => {
  for (let n = el; n; n = n.parentElement) {
    if (n.scrollWidth > n.clientWidth + 1 && getComputedStyle(n).overflowX !== "visible") return false;
  }
  return true;
}"""


def _open(browser, live_server, viewport, staff_user):
    http = HttpClient()
    http.force_login(staff_user)
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(10_000)
    context.add_cookies(
        [{"name": "sessionid", "value": http.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto("/dashboard/audit/?action=client.update")
    return page


def _page_width(page) -> tuple[int, int]:
    return tuple(page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]"))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_a_long_value_expands_in_full_without_sideways_scrolling(browser, live_server, staff_user, viewport):
    audit_record(
        actor=staff_user,
        action="client.update",
        target_label="Mobile app",
        before={"redirect_uris": "https://app.abcinc.example/callback"},
        after={"redirect_uris": LONG_VALUE},
    )
    page = _open(browser, live_server, viewport, staff_user)
    full = page.locator(".audit-full")
    expect(full).to_be_hidden()
    scroll, window = _page_width(page)
    assert scroll <= window, f"the page is {scroll} px wide in a {window} px window"

    page.get_by_text(f"show all {len(LONG_VALUE)} characters").click()

    expect(full).to_be_visible()
    expect(full).to_have_text(LONG_VALUE)
    expect(page.get_by_text("show less")).to_be_visible()
    scroll, window = _page_width(page)
    assert scroll <= window, f"expanded, the page is {scroll} px wide in a {window} px window"
    box = full.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= window
    # Nothing around it scrolls sideways either: the value wraps.
    assert full.evaluate(NOTHING_SCROLLS_SIDEWAYS)

    page.get_by_text("show less").click()
    expect(full).to_be_hidden()


def test_the_expanded_log_has_no_serious_accessibility_fault(browser, live_server, staff_user, axe):
    audit_record(
        actor=staff_user,
        action="client.update",
        target_label="Mobile app",
        after={"redirect_uris": LONG_VALUE},
    )
    page = _open(browser, live_server, PHONE, staff_user)
    page.get_by_text(f"show all {len(LONG_VALUE)} characters").click()
    assert axe(page) == []
