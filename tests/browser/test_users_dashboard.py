from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from authz.services import role_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, staff_user, password) -> None:
    page.goto("/dashboard/users/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()


def test_staff_assigns_a_role_and_sees_the_permission_with_its_reason(
    page, staff_user, user, password, timesheets_api
):
    User.objects.create_user(email="bob@abcinc.example", password=password, name="Bob Brown")
    role_create(
        actor=None,
        name="Timesheet Approver",
        permissions=timesheets_api.scopes.filter(value="approve:timesheets"),
    )
    _sign_in(page, staff_user, password)

    page.get_by_role("searchbox", name="Search users").fill("alice")
    expect(page.get_by_role("cell", name="bob@abcinc.example")).to_have_count(0)
    page.get_by_role("link", name="alice@abcinc.example").click()

    expect(page.get_by_role("heading", name="alice@abcinc.example")).to_be_visible()
    permissions = page.locator("#user-permissions")
    expect(permissions).to_contain_text("No permissions")

    page.evaluate("window.noReload = true")
    page.get_by_label("Role", exact=True).select_option(label="Timesheet Approver")
    page.get_by_role("button", name="Assign role").click()

    expect(page.get_by_role("status")).to_contain_text("Role “Timesheet Approver” assigned.")
    row = permissions.get_by_role("row", name=re.compile("approve:timesheets"))
    expect(row).to_contain_text("role Timesheet Approver")
    expect(permissions).to_contain_text("Timesheets API")
    expect(page.locator("#role-" + str(user.roles.get().pk))).to_contain_text("assigned directly")
    assert page.evaluate("window.noReload") is True  # htmx swapped the section in place

    # The change is in the audit log, found by filtering as you type.
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    page.evaluate("window.noReload = true")
    page.get_by_label("Action").fill("role.assign")
    results = page.locator("#audit-results")
    expect(results).to_contain_text("1 entry")
    expect(results.get_by_role("row", name=re.compile("role.assign"))).to_contain_text("alice@abcinc.example")
    expect(page).to_have_url(re.compile(r"/dashboard/audit/\?.*action=role\.assign"))
    assert page.evaluate("window.noReload") is True


def test_staff_page_through_users_in_place_and_back(page, staff_user, password):
    User.objects.bulk_create(
        User(email=f"person-{number:02d}@abcinc.example", name=f"Person {number:02d}", password="!")
        for number in range(60)
    )
    _sign_in(page, staff_user, password)
    results = page.locator("#user-results")
    expect(results.get_by_role("cell", name="admin@abcinc.example")).to_be_visible()
    page.evaluate("window.noReload = true")

    page.get_by_role("link", name="Next").click()
    expect(results.get_by_role("cell", name="person-59@abcinc.example")).to_be_visible()
    expect(results.get_by_role("cell", name="admin@abcinc.example")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/dashboard/users/\?q=&after=person-48%40abcinc\.example$"))
    expect(page.get_by_role("link", name="Next")).to_have_count(0)

    page.get_by_role("link", name="Previous").click()
    expect(results.get_by_role("cell", name="admin@abcinc.example")).to_be_visible()
    expect(page.get_by_role("link", name="Previous")).to_have_count(0)
    assert page.evaluate("window.noReload") is True  # htmx swapped the results in place
