"""Invite → set password → sign in, in real Chromium, on a phone and on a desktop: an
administrator invites a person, who follows the emailed link, chooses a password and signs in."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import User
from authz.services import group_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
NEW_PASSWORD = "Correct-horse-battery-9"


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_an_invited_person_sets_a_password_and_signs_in(
    page, browser, live_server, viewport, staff_user, password
):
    group_create(actor=None, name="Contractors")
    page.set_viewport_size(viewport)
    page.goto("/dashboard/users/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Invite a person").click()

    expect(page.get_by_role("heading", name="Invite a person")).to_be_visible()
    _fits(page, viewport["width"])
    page.get_by_label("Email address").fill("alice@abcinc.example")
    page.get_by_label("Name", exact=True).fill("Alice Anders")
    page.get_by_label("Worker type").select_option(label="Contractor")
    page.get_by_label("Contractors").check()
    page.get_by_role("button", name="Create and send invitation").click()

    expect(page.get_by_role("heading", name="alice@abcinc.example")).to_be_visible()
    lifecycle = page.locator("#user-lifecycle")
    expect(lifecycle).to_contain_text("Invited, not yet accepted.")
    _fits(page, viewport["width"])  # its wide tables scroll in their own boxes on a phone
    resend = lifecycle.get_by_role("button", name="Resend invitation")
    resend.scroll_into_view_if_needed()
    expect(resend).to_be_in_viewport()
    [message] = mail.outbox
    link = re.search(r"https?://\S+", str(message.body))
    assert link is not None and message.to == ["alice@abcinc.example"]

    # The person, in their own browser: the link's path on this server.
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    person = context.new_page()
    person.goto(urlsplit(link.group(0)).path)
    expect(person.get_by_role("heading", name="Welcome! Choose your password")).to_be_visible()
    _fits(person, viewport["width"])
    person.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    person.get_by_label("New password, again").fill(NEW_PASSWORD)
    person.get_by_role("button", name="Set password").click()

    expect(person.get_by_text("Your password is set. Sign in with it.")).to_be_visible()
    person.get_by_label("Email address").fill("alice@abcinc.example")
    person.get_by_label("Password").fill(NEW_PASSWORD)
    person.get_by_role("button", name="Sign in").click()
    expect(person).not_to_have_url(re.compile(r"/login/"))
    context.close()

    alice = User.objects.get(email="alice@abcinc.example")
    assert alice.status == "active" and alice.last_login is not None
    assert [group.name for group in alice.authz_groups.all()] == ["Contractors"]
    page.reload()
    expect(page.locator("#user-lifecycle")).not_to_contain_text("Invited")
    expect(page.get_by_role("button", name="Send password reset link")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_an_admin_invites_people_from_a_pasted_csv(page, viewport, staff_user, password):
    page.set_viewport_size(viewport)
    page.goto("/dashboard/users/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Invite from CSV").click()
    _fits(page, viewport["width"])

    page.get_by_label("Or paste it").fill("email,name\nbob@abcinc.example,Bob\nnot-an-email,X\n")
    page.get_by_role("button", name="Check and invite").click()
    expect(page.get_by_role("alert")).to_contain_text("Nobody was invited: 1 mistake in the file.")
    expect(page.get_by_role("alert")).to_contain_text("Line 3: “not-an-email” is not an email address.")
    assert not User.objects.filter(email="bob@abcinc.example").exists()

    page.get_by_label("Or paste it").fill("email,name\nbob@abcinc.example,Bob\ncarol@abcinc.example,Carol\n")
    page.get_by_role("button", name="Check and invite").click()
    expect(page.get_by_role("status")).to_have_text("2 invited, 0 skipped (already here).")
    expect(page.locator("progress")).to_have_attribute("value", "2")
    _fits(page, viewport["width"])
    page.get_by_role("link", name="See the invited people").click()
    expect(page.locator("#user-results").get_by_role("row")).to_have_count(3)  # the header and two
