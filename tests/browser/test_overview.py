"""The dashboard's overview in Chromium: the events a test causes (tokens issued at the token
endpoint, failed sign-ins and a lockout at the sign-in page, an entry submitted for approval)
show in its charts and tables, on a phone and a desktop.

``SCREENSHOTS=1`` also writes docs/overview.png, the README's picture (CI leaves it alone).
"""

from __future__ import annotations

import base64
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.audit import audit_record
from accounts.models import User
from authz.models import TokenIssuance
from authz.oauth import issuance_counts
from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API
from timesheets.models import Entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "overview.png"


@pytest.fixture(autouse=True)
def _no_counts_of_other_tests():
    """Token counts live in the process: start without those earlier tests left."""
    issuance_counts.take()
    yield
    issuance_counts.take()


@pytest.fixture
def batch(confidential_client, timesheets_api) -> tuple[str, str]:
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    return client.client_id, secret


def _issue_tokens(page, client_id: str, secret: str, count: int) -> None:
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    for _ in range(count):
        answer = page.request.post(
            "/oauth/token",
            form={"grant_type": "client_credentials", "audience": TIMESHEETS_API},
            headers={"Authorization": basic},
        )
        assert answer.status == 200, answer.text()


def _sign_in_attempt(page, email: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _submitted_entry(password: str) -> Entry:
    worker = User.objects.create_user(email="worker@abcinc.example", password=password, name="Wren Worker")
    monday = datetime.now(UTC).date() - timedelta(days=datetime.now(UTC).weekday() + 7)
    return Entry.objects.create(
        worker=worker, date=monday, project="Payroll", minutes=390, status=Entry.Status.SUBMITTED
    )


def _open_table(page, name: str):
    page.get_by_text(name, exact=True).click()
    return page.get_by_role("table").filter(has=page.get_by_role("columnheader")).locator("visible=true")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_the_overview_shows_what_just_happened(page, viewport, staff_user, password, batch):
    client_id, secret = batch
    entry = _submitted_entry(password)
    page.set_viewport_size(viewport)
    _issue_tokens(page, client_id, secret, 3)
    for _ in range(2):
        _sign_in_attempt(page, staff_user.email, "not-the-password")
        expect(page.get_by_role("alert")).to_contain_text("correct email address and password")
    _sign_in_attempt(page, staff_user.email, password)
    expect(page).not_to_have_url(re.compile(r"/login/"))
    page.goto("/dashboard/")

    page.get_by_role("link", name="Open the activity overview").click()
    expect(page).to_have_url(re.compile(r"/dashboard/overview/$"))
    page.get_by_role("link", name="Last 24 hours").click()
    expect(page).to_have_url(re.compile(r"/dashboard/overview/\?range=24h$"))
    expect(page.get_by_role("link", name="Last 24 hours")).to_have_attribute("aria-current", "page")

    expect(page.get_by_test_id("tokens-total")).to_have_text("3")
    expect(page.locator("#tokens-by-client rect title")).to_have_text([f"{client_id}: 3"])
    expect(page.locator("#tokens-by-api rect title")).to_have_text([f"{TIMESHEETS_API}: 3"])
    today = datetime.now(UTC).strftime("%d %b")
    expect(page.locator("#tokens-chart rect title")).to_have_text([f"{today}: 3 client credentials"])
    page.get_by_text("Tokens per day as a table", exact=True).click()
    # Columns: authorization code, refresh, client credentials, device code, total.
    expect(page.get_by_role("row", name=re.compile(rf"^{today} 0 0 3 0 3$"))).to_be_visible()
    page.get_by_text("By application as a table", exact=True).click()
    link = page.get_by_role("link", name=client_id, exact=True)
    expect(link).to_have_attribute(
        "href", re.compile(r"^/dashboard/logs/\?type=token\.issue\.&client=test-batch&from=")
    )

    expect(page.get_by_test_id("sign-ins-total")).to_have_text("1")
    expect(page.get_by_test_id("sign-ins-failed")).to_have_text("2")
    hour = datetime.now(UTC).strftime("%H:00")
    page.get_by_text("Sign-ins as a table", exact=True).click()
    expect(page.get_by_role("row", name=re.compile(rf"^{hour} 1 2 0$"))).to_be_visible()

    expect(page.get_by_test_id("backlog-hours")).to_have_text("6.5")
    expect(page.get_by_test_id("backlog-entries")).to_have_text("1")
    expect(page.get_by_test_id("backlog-oldest")).to_contain_text(
        f"worker@abcinc.example, Payroll, worked {entry.date:%-d %b %Y}"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_lockouts_and_security_events_are_marked(page, staff_user, password, user):
    """Five wrong passwords lock an account out: the sign-in chart marks the hour."""
    for _ in range(5):
        _sign_in_attempt(page, user.email, "not-the-password")
    expect(page.get_by_role("heading", name=re.compile("Too many"))).to_be_visible()
    _sign_in_attempt(page, staff_user.email, password)
    expect(page).not_to_have_url(re.compile(r"/login/"))
    page.goto("/dashboard/overview/?range=24h")
    expect(page.get_by_test_id("lockouts-total")).to_have_text("1")
    hour = datetime.now(UTC).strftime("%H:00")
    expect(page.locator("#sign-ins-chart polygon.marker title")).to_have_text([f"{hour}: 1 lockout"])
    expect(page.get_by_role("link", name=re.compile("lockout"))).to_have_attribute(
        "href", re.compile(r"^/dashboard/logs/\?type=security\.lockout&from=")
    )


HISTORY = [  # days ago: (authorization code, refresh token, client credentials, sign-ins, failed)
    (6, 14, 9, 40, 12, 2),
    (5, 22, 15, 44, 17, 5),
    (4, 18, 11, 38, 15, 1),
    (3, 25, 19, 52, 20, 6),
    (2, 9, 6, 30, 8, 0),
    (1, 20, 14, 47, 18, 3),
]
CLIENTS = {
    "authorization_code": ("timesheets-mobile", TIMESHEETS_API),
    "refresh_token": ("timesheets-mobile", TIMESHEETS_API),
    "client_credentials": ("hr-sync", "https://reports.abcinc.example/api"),
}


def _backdated(action: str, at: datetime, **after) -> None:
    entry = audit_record(actor=None, action=action, after=after or None)
    entry.at = at
    entry.save(update_fields=["at"])


def _a_week_of_history(password: str) -> None:
    """Records as the last six days would have left them: the token counts, sign-ins and
    security events (the same rows the token endpoint and the sign-in page write)."""
    now = datetime.now(UTC)
    for days_ago, code, refresh, machine, signed_in, failed in HISTORY:
        day, at = (now - timedelta(days=days_ago)).date(), now - timedelta(days=days_ago)
        for grant_type, count in zip(CLIENTS, (code, refresh, machine), strict=True):
            client_id, audience = CLIENTS[grant_type]
            TokenIssuance.objects.create(
                day=day, grant_type=grant_type, audience=audience, client_id=client_id, count=count
            )
        for action, times in (("security.login", signed_in), ("security.login_failure", failed)):
            for _ in range(times):
                _backdated(action, at)
    _backdated("security.lockout", now - timedelta(days=3))
    _backdated("security.refresh_reuse", now - timedelta(days=3))
    _backdated("token.revoke", now - timedelta(days=2))
    _backdated("security.dashboard_denied", now - timedelta(days=1), count=2)
    worker = User.objects.create_user(email="sam@abcinc.example", password=password, name="Sam Shift")
    monday = now.date() - timedelta(days=now.weekday())
    for weeks_ago, minutes in ((2, 480), (1, 450), (1, 480), (0, 240)):
        Entry.objects.create(
            worker=worker,
            date=monday - timedelta(weeks=weeks_ago),
            project="Apollo",
            minutes=minutes,
            status=Entry.Status.SUBMITTED,
        )


def test_a_week_lands_day_by_day(page, staff_user, password, batch, axe):
    """Seven days in the 7-day view, each day's counts in its own bar and row, with no
    serious accessibility fault, tables open; with ``SCREENSHOTS=1`` the README's picture."""
    client_id, secret = batch
    _a_week_of_history(password)
    _issue_tokens(page, client_id, secret, 2)
    page.set_viewport_size(DESKTOP)
    _sign_in_attempt(page, staff_user.email, password)
    expect(page).not_to_have_url(re.compile(r"/login/"))
    page.goto("/dashboard/overview/?range=7d")

    three_days_ago = (datetime.now(UTC) - timedelta(days=3)).strftime("%d %b")
    expect(page.get_by_test_id("tokens-total")).to_have_text(str(sum(sum(day[1:4]) for day in HISTORY) + 2))
    expect(page.locator("#tokens-chart rect title")).to_contain_text(
        [f"{three_days_ago}: 52 client credentials"]
    )
    expect(page.locator("#sign-ins-chart rect title")).to_contain_text(
        [f"{three_days_ago}: 6 failed sign-ins"]
    )
    expect(page.locator("#sign-ins-chart polygon.marker title")).to_have_text(
        [f"{three_days_ago}: 1 lockout"]
    )
    expect(page.locator("#security-chart rect title")).to_contain_text(["Refresh-token reuse: 1"])
    expect(page.get_by_test_id("sign-ins-total")).to_have_text(str(sum(day[4] for day in HISTORY) + 1))
    expect(page.get_by_test_id("backlog-hours")).to_have_text("27.5")
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    if os.environ.get("SCREENSHOTS"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    for summary in page.locator(".overview summary").all():  # every table open, every link shown
        summary.click()
    assert axe(page) == []
