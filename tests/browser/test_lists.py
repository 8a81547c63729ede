"""A dashboard list in Chromium: an administrator searches the applications, sorts them by a
column header and turns the page, on a phone and on a desktop, and the page never scrolls
sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from clients.models import Client
from clients.services import client_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _names(page) -> list[str]:
    return page.locator("#client-results tbody tr td:first-child a").all_inner_texts()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_search_sort_and_next_page_of_applications(page, staff_user, password, viewport):
    for number in range(30):
        client_create(
            app_type=Client.AppType.M2M, name=f"Worker {number:02d}", client_id=f"worker-{number:02d}"
        )
    client_create(app_type=Client.AppType.M2M, name="Archiver", client_id="archiver")
    page.set_viewport_size(viewport)
    page.goto("/dashboard/applications/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Applications")).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0

    # Typing searches (htmx swaps the results only; the address bar keeps the query).
    page.get_by_role("searchbox", name="Search applications").fill("worker")
    expect(page).to_have_url(re.compile(r"\?q=worker$"))
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    assert "Archiver" not in _names(page)

    # The Name header reverses the order and says so.
    page.get_by_role("link", name="Name", exact=True).click()
    expect(page.locator("th[aria-sort=descending]")).to_have_text("Name")
    expect(page.locator("#client-results tbody tr").first).to_contain_text("Worker 29")
    expect(page).to_have_url(re.compile(r"\?q=worker&sort=-name$"))

    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?q=worker&sort=-name&page=2$"))
    assert _names(page) == [f"Worker {number:02d}" for number in range(4, -1, -1)]
    assert page.evaluate(OVERFLOW) <= 0

    # A narrower search keeps the order the header chose, and starts from the first page.
    page.get_by_role("searchbox", name="Search applications").fill("worker 1")
    expect(page.locator("#client-results tbody tr").first).to_contain_text("Worker 19")
    assert _names(page) == [f"Worker {number:02d}" for number in range(19, 9, -1)]
    expect(page.get_by_text("Page 2 of 2")).to_have_count(0)

    # Nothing found says so.
    page.get_by_role("searchbox", name="Search applications").fill("payroll")
    expect(page.get_by_text("No application matches “payroll”.")).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0
