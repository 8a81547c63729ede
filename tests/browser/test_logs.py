"""Logs in Chromium: an administrator filters the log by application and downloads the
filtered range as CSV, on a phone and on a desktop."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import AuditEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _sign_in(page, staff_user, password) -> None:
    page.goto("/dashboard/logs/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Logs")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_staff_filters_the_log_and_exports_the_filtered_range(page, staff_user, password, viewport):
    for client_id, error in [("batch", ""), ("batch", "invalid_scope"), ("mobile", "")]:
        AuditEntry.objects.create(
            action=f"token.{'failure' if error else 'issue'}.client_credentials",
            actor_label=f"client:{client_id}",
            client_id=client_id,
            audience="https://timesheets.abcinc.example/api",
            details={"error": error} if error else {"scope": "read:timesheets"},
        )
    page.set_viewport_size(viewport)
    _sign_in(page, staff_user, password)
    results = page.locator("#log-results")
    expect(results).to_contain_text("security.login")  # this very sign-in

    page.evaluate("window.noReload = true")
    page.get_by_label("Application").fill("batch")
    expect(results.get_by_text("mobile")).to_have_count(0)
    expect(results).to_contain_text("error: invalid_scope")
    expect(page).to_have_url(re.compile(r"/dashboard/logs/\?.*client=batch"))
    assert page.evaluate("window.noReload") is True  # htmx swapped the results in place
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8") as exported:
        rows = list(csv.DictReader(io.StringIO(exported.read())))
    assert sorted(row["type"] for row in rows) == [
        "token.failure.client_credentials",
        "token.issue.client_credentials",
    ]
    assert {row["client_id"] for row in rows} == {"batch"}

    page.get_by_role("link", name=re.compile(r"\d{4}-\d\d-\d\d")).first.click()
    expect(page.get_by_role("heading", name="token.failure.client_credentials")).to_be_visible()
    expect(page.get_by_label("The whole entry as JSON")).to_contain_text('"error": "invalid_scope"')


def test_the_log_reads_at_a_glance(page, staff_user, password, axe):
    """A morning's events in the log as an administrator opens it: no serious accessibility
    fault; with ``SCREENSHOTS=1`` it also writes docs/logs.png, the README's picture."""
    for action, actor, client_id, details in [
        ("security.login_failure", "alice@abcinc.example", "", {"reason": "wrong_password"}),
        ("security.login", "alice@abcinc.example", "", {}),
        ("consent.grant", "alice@abcinc.example", "timesheets-mobile", {"scope": "openid read:timesheets"}),
        ("token.issue.authorization_code", "alice@abcinc.example", "timesheets-mobile", {"scope": "openid"}),
        ("token.issue.refresh_token", "alice@abcinc.example", "timesheets-mobile", {"scope": "openid"}),
        ("token.issue.client_credentials", "client:timesheets-batch", "timesheets-batch", {}),
        ("token.failure.client_credentials", "client:payroll", "payroll", {"error": "invalid_client"}),
        ("token.revoke", "alice@abcinc.example", "timesheets-mobile", {}),
    ]:
        AuditEntry.objects.create(
            action=action, actor_label=actor, client_id=client_id, details=details, ip="192.0.2.10"
        )
    page.set_viewport_size(DESKTOP)
    _sign_in(page, staff_user, password)
    results = page.locator("#log-results")
    expect(results).to_contain_text("token.failure.client_credentials")
    expect(results).to_contain_text("wrong_password")
    assert axe(page) == []
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=str(Path(__file__).resolve().parents[2] / "docs" / "logs.png"), full_page=True)
