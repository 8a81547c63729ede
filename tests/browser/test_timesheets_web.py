from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Dialog, expect

from accounts.models import User
from apis.services import api_update
from authz.services import role_assign, role_create, role_set_permissions
from timesheets.models import Entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def manager(user, password, timesheets_api) -> User:
    """Alice's manager, who approves timesheets through a role on the RBAC-enabled API."""
    manager = User.objects.create_user(
        email="manager@abcinc.example", password=password, name="Morgan Manager"
    )
    user.manager = manager
    user.save()
    api_update(api=timesheets_api, rbac_enabled=True)
    role = role_create(actor=None, name="Timesheet approvers")
    role_set_permissions(
        actor=None, role=role, permissions=timesheets_api.scopes.filter(value="approve:timesheets")
    )
    role_assign(actor=None, role=role, user=manager)
    return manager


def _monday() -> datetime.date:
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday())


def _sign_in(page, email: str, password: str, path: str) -> None:
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _add(page, *, day_index: int, project: str, hours: str) -> None:
    page.get_by_label("Day", exact=True).select_option(index=day_index)
    page.get_by_label("Project", exact=True).fill(project)
    page.get_by_label("Hours", exact=True).fill(hours)
    page.get_by_role("button", name="Add", exact=True).click()


def test_alice_logs_her_week_and_her_manager_approves_it(page, browser, live_server, user, manager, password):
    _sign_in(page, user.email, password, "/time/")
    expect(page.get_by_role("heading", name="My week")).to_be_visible()
    page.evaluate("window.noReload = true")
    week = page.locator("#week")
    status = week.get_by_role("status")

    # A tenth of an hour is not a quarter hour: the error shows next to the field.
    _add(page, day_index=0, project="Apollo", hours="0.1")
    expect(week.locator("#id_hours_error")).to_contain_text("quarter-hour steps")

    _add(page, day_index=0, project="Apollo", hours="7.5")
    expect(status).to_contain_text("Added 7.5 h on Apollo")
    _add(page, day_index=1, project="Gemini", hours="6")
    expect(status).to_contain_text("Added 6 h on Gemini")
    expect(week.locator("tfoot")).to_contain_text("13.5")
    expect(week.locator(".badge.status-draft")).to_have_count(2)

    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Submit week").click()
    expect(status).to_have_text("Submitted 2 entries for approval.")
    assert asked == [
        f"Submit 2 drafts (13.5 h) for the week of {_monday():%-d %b %Y}? Your manager decides on them; "
        "until then you can neither edit nor delete them."
    ]
    expect(week.locator(".badge.status-submitted")).to_have_count(2)
    expect(page.get_by_role("button", name="Submit week")).to_be_disabled()
    assert page.evaluate("window.noReload") is True

    # The manager, in a browser of their own.
    context = browser.new_context(base_url=live_server.url)
    try:
        boss = context.new_page()
        _sign_in(boss, manager.email, password, "/time/approvals/")
        expect(boss.get_by_role("heading", name="Approvals")).to_be_visible()
        alice = boss.locator(f"#person-{user.pk}")
        expect(alice.get_by_role("heading", name="Alice Anders")).to_be_visible()
        expect(alice).to_contain_text("13.5 h waiting")
        boss.once("dialog", lambda dialog: dialog.accept())
        alice.get_by_role("button", name="Approve whole week").click()
        expect(boss.get_by_role("status")).to_have_text(re.compile(r"^Approved 2 entries for the week of"))
        expect(boss.get_by_text("Nothing left to decide for Alice Anders.")).to_be_visible()
    finally:
        context.close()

    page.reload()
    expect(week.locator(".badge.status-approved")).to_have_count(2)
    expect(week.get_by_role("button", name=re.compile("^Delete"))).to_have_count(0)
    assert set(Entry.objects.values_list("status", "decided_by")) == {(Entry.Status.APPROVED, manager.pk)}


def test_a_change_made_meanwhile_is_explained_in_place(page, user, password):
    _sign_in(page, user.email, password, "/time/")
    _add(page, day_index=0, project="Apollo", hours="8")
    week = page.locator("#week")
    expect(week.get_by_role("status")).to_contain_text("Added 8 h on Apollo")
    # Approved in another tab (or by the API) after this page was drawn.
    Entry.objects.update(status=Entry.Status.APPROVED)

    page.once("dialog", lambda dialog: dialog.accept())
    week.get_by_role("button", name=re.compile("^Delete Apollo")).click()

    # htmx swaps the 409 answer too, so the person sees why and the current state.
    refusal = "Only draft or rejected entries can be deleted; this one is approved."
    expect(week.get_by_role("alert")).to_have_text(refusal)
    expect(week.locator(".badge.status-approved")).to_have_count(1)
    assert Entry.objects.count() == 1
