"""My week and Approvals on a phone (390 x 844, touch) and on a desktop, in real Chromium.

Nothing scrolls sideways, every action sits inside the screen where a finger lands on it, and
the one-way actions (submit week, approve, approve whole week) ask first: cancelling the
question changes nothing. Without JavaScript the same actions ask on a page of their own.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Dialog, Locator, Page, expect

from accounts.models import User
from apis.services import api_update
from authz.services import role_assign, role_create, role_set_permissions
from timesheets.models import Entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
LONG_NOTES = "Workshop with the customer's whole design team about the onboarding flow, " * 3
MONDAY = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())


@pytest.fixture
def manager(user, password, timesheets_api) -> User:
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


def _entry(worker: User, *, day: int, project: str, status: str, notes: str = "") -> Entry:
    return Entry.objects.create(
        worker=worker,
        date=MONDAY + datetime.timedelta(days=day),
        project=project,
        minutes=450,
        notes=notes,
        status=status,
        rejection_reason="Wrong code" if status == Entry.Status.REJECTED else "",
    )


def _open(browser, live_server, viewport, *, email: str, password: str, path: str, javascript=True) -> Page:
    phone = viewport == PHONE
    context = browser.new_context(
        base_url=live_server.url,
        viewport=viewport,
        has_touch=phone,
        is_mobile=phone,
        java_script_enabled=javascript,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(path)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    return page


def _no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def _reachable(page: Page, control: Locator) -> None:
    """Inside the screen's width as drawn (no sideways scrolling of the page or of a box
    around it), fully in view once scrolled down to, and a tap at its centre lands on it."""
    width = (page.viewport_size or PHONE)["width"]
    box = control.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{box} is off a {width} px screen"
    # Centred, not merely scrolled to: aligned with the screen's bottom edge, a control laid
    # out at a fractional y (rem units) loses a sub-pixel to whole-pixel scrolling.
    control.evaluate("el => el.scrollIntoView({block: 'center', inline: 'nearest'})")
    expect(control).to_be_in_viewport(ratio=1)
    unscrolled = (
        "el => { for (let n = el; n; n = n.parentElement) if (n.scrollLeft) return false; return true }"
    )
    assert control.evaluate(unscrolled), "reaching it scrolled something sideways"
    assert page.evaluate("window.scrollX") == 0
    box = control.bounding_box()
    assert box is not None
    centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
    assert control.evaluate("(el, [x, y]) => el.contains(document.elementFromPoint(x, y))", centre)


def _answer(page: Page, *, accept: bool) -> list[str]:
    """Accept or cancel the page's next question; the list returned gets its words."""
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", answer)
    return asked


def _press(page: Page, control: Locator) -> None:
    if (page.viewport_size or DESKTOP)["width"] == PHONE["width"]:  # a finger on a phone
        control.tap()
    else:
        control.click()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_my_week_fits_and_every_action_is_in_reach(browser, live_server, user, password, viewport):
    _entry(user, day=0, project="Apollo", status=Entry.Status.DRAFT, notes=LONG_NOTES)
    _entry(user, day=1, project="Gemini", status=Entry.Status.REJECTED)
    submitted = _entry(user, day=2, project="Mercury", status=Entry.Status.SUBMITTED)
    page = _open(browser, live_server, viewport, email=user.email, password=password, path="/time/")
    week = page.locator("#week")
    _no_sideways_scroll(page)

    for name in ("Edit Apollo on Monday", "Delete Apollo on Monday", "Delete Gemini on Tuesday"):
        _reachable(page, week.get_by_role("button", name=name).or_(week.get_by_role("link", name=name)))
    # Submitted time waits for the manager: neither editable nor deletable, and not offered.
    expect(page.locator(f"#entry-{submitted.pk}").get_by_role("button")).to_have_count(0)
    _reachable(page, week.get_by_role("button", name="Submit week"))

    # A tap on Add reaches the button and adds the entry (it used to land on a label).
    page.get_by_label("Day", exact=True).select_option(index=3)
    page.get_by_label("Project", exact=True).fill("Voyager")
    page.get_by_label("Hours", exact=True).fill("6")
    add = week.get_by_role("button", name="Add", exact=True)
    _reachable(page, add)
    _press(page, add)
    expect(week.get_by_role("status")).to_contain_text("Added 6 h on Voyager")
    _no_sideways_scroll(page)

    # Correcting the rejected entry in place: its form fits too, and Save is in reach.
    _press(page, week.get_by_role("link", name="Edit Gemini on Tuesday"))
    edit = week.get_by_role("form", name=re.compile("^Edit Gemini"))
    expect(edit).to_be_visible()
    _no_sideways_scroll(page)
    _reachable(page, edit.get_by_role("button", name="Save"))
    _press(page, edit.get_by_role("link", name="Cancel"))
    expect(edit).to_have_count(0)

    # Submitting asks, saying what follows; cancelling changes nothing.
    asked = _answer(page, accept=False)
    _press(page, week.get_by_role("button", name="Submit week"))
    page.wait_for_timeout(300)
    assert asked == [
        f"Submit 2 drafts (13.5 h) for the week of {MONDAY:%-d %b %Y}? Your manager decides on them; "
        "until then you can neither edit nor delete them."
    ]
    assert Entry.objects.filter(status=Entry.Status.SUBMITTED).count() == 1
    expect(week.locator(".badge.status-draft")).to_have_count(2)

    _answer(page, accept=True)
    _press(page, week.get_by_role("button", name="Submit week"))
    expect(week.get_by_role("status")).to_have_text("Submitted 2 entries for approval.")
    _no_sideways_scroll(page)
    page.context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_approvals_fit_and_every_decision_is_in_reach(
    browser, live_server, user, manager, password, viewport
):
    apollo = _entry(user, day=0, project="Apollo", status=Entry.Status.SUBMITTED, notes=LONG_NOTES)
    gemini = _entry(user, day=1, project="Gemini", status=Entry.Status.SUBMITTED)
    mercury = _entry(user, day=2, project="Mercury", status=Entry.Status.SUBMITTED)
    page = _open(
        browser, live_server, viewport, email=manager.email, password=password, path="/time/approvals/"
    )
    alice = page.locator(f"#person-{user.pk}")
    _no_sideways_scroll(page)

    for entry in (apollo, gemini, mercury):
        row = page.locator(f"#decide-{entry.pk}")
        _reachable(page, row.get_by_role("button", name=re.compile("^Approve ")))
        _reachable(page, row.get_by_role("textbox"))
        _reachable(page, row.get_by_role("button", name=re.compile("^Reject ")))
    _reachable(page, alice.get_by_role("button", name="Approve whole week"))

    # Approving one entry asks; cancelling leaves it waiting.
    asked = _answer(page, accept=False)
    _press(page, page.locator(f"#decide-{apollo.pk}").get_by_role("button", name=re.compile("^Approve ")))
    page.wait_for_timeout(300)
    final = "Approved time is final: nobody can edit or delete it afterwards."
    assert asked == [f"Approve 7.5 h on Apollo by Alice Anders on {MONDAY:%A %-d %b}? {final}"]
    assert set(Entry.objects.values_list("status", flat=True)) == {Entry.Status.SUBMITTED}

    # A reason typed on the phone's keyboard, then Reject (no question: the person can fix it).
    reason = page.locator(f"#decide-{gemini.pk}").get_by_role("textbox")
    _press(page, reason)
    expect(reason).to_be_focused()
    reason.fill("Wrong project code")
    _press(page, page.locator(f"#decide-{gemini.pk}").get_by_role("button", name=re.compile("^Reject ")))
    expect(page.get_by_role("status")).to_have_text(re.compile("^Rejected Gemini"))
    _no_sideways_scroll(page)

    # The whole week: asked, cancelled, nothing changes; asked again, yes: both approved.
    asked = _answer(page, accept=False)
    _press(page, alice.get_by_role("button", name="Approve whole week"))
    page.wait_for_timeout(300)
    assert asked == [
        f"Approve the 2 entries (15 h) Alice Anders submitted for the week of {MONDAY:%-d %b %Y}? {final}"
    ]
    assert Entry.objects.filter(status=Entry.Status.APPROVED).count() == 0

    _answer(page, accept=True)
    _press(page, alice.get_by_role("button", name="Approve whole week"))
    expect(page.get_by_role("status")).to_have_text(re.compile("^Approved 2 entries for the week of"))
    assert Entry.objects.filter(status=Entry.Status.APPROVED).count() == 2
    _no_sideways_scroll(page)
    page.context.close()


def test_without_javascript_a_page_asks_and_cancel_changes_nothing(
    browser, live_server, user, manager, password
):
    entry = _entry(user, day=0, project="Apollo", status=Entry.Status.DRAFT)
    page = _open(
        browser, live_server, PHONE, email=user.email, password=password, path="/time/", javascript=False
    )

    page.get_by_role("button", name="Submit week").tap()
    expect(page.get_by_role("heading", name="Submit this week?")).to_be_visible()
    expect(page.get_by_text("Submit 1 draft (7.5 h) for the week of")).to_be_visible()
    _no_sideways_scroll(page)
    _reachable(page, page.get_by_role("link", name="Cancel"))
    page.get_by_role("link", name="Cancel").tap()
    expect(page.get_by_role("heading", name="My week")).to_be_visible()
    entry.refresh_from_db()
    assert entry.status == Entry.Status.DRAFT

    page.get_by_role("button", name="Submit week").tap()
    _reachable(page, page.get_by_role("button", name="Submit week"))
    page.get_by_role("button", name="Submit week").tap()
    expect(page.get_by_role("status")).to_contain_text("Submitted 1 entry for approval.")
    entry.refresh_from_db()
    assert entry.status == Entry.Status.SUBMITTED
    page.context.close()
