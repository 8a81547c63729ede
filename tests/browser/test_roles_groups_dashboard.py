from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from authz.models import Group, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, staff_user, password) -> None:
    page.goto("/dashboard/roles/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Roles", exact=True)).to_be_visible()


def test_staff_grants_a_permission_through_a_group_and_sees_who_can(
    page, staff_user, password, timesheets_api
):
    User.objects.create_user(email="carol@abcinc.example", password=password, name="Carol Chen")
    _sign_in(page, staff_user, password)

    # A role with the approve permission.
    page.get_by_label("Name", exact=True).fill("Timesheet approver")
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_role("heading", name="Timesheet approver")).to_be_visible()
    role = Role.objects.get(name="Timesheet approver")
    assert page.url.endswith(f"/dashboard/roles/{role.pk}/")
    page.evaluate("window.noReload = true")
    page.get_by_role("checkbox", name=re.compile("^approve:timesheets")).check()
    page.get_by_role("button", name="Save permissions").click()
    expect(page.locator("#role-permissions").get_by_role("status")).to_have_text(
        "Permissions saved: 1 permission."
    )
    assert page.evaluate("window.noReload") is True
    assert list(role.permissions.values_list("value", flat=True)) == ["approve:timesheets"]

    # A group that holds the role, with Carol found by typing part of her name.
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Groups").click()
    page.get_by_label("Name", exact=True).fill("Managers")
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("heading", name="Managers")).to_be_visible()
    group = Group.objects.get(name="Managers")
    page.evaluate("window.noReload = true")

    page.get_by_label("Role", exact=True).select_option(label="Timesheet approver")
    page.get_by_role("button", name="Add role").click()
    roles = page.locator("#group-roles")
    expect(roles.get_by_role("status")).to_contain_text("Role “Timesheet approver” added")
    expect(roles.get_by_role("link", name="Timesheet approver")).to_be_visible()

    page.get_by_role("searchbox", name="Search users to add").press_sequentially("car", delay=50)
    add_carol = page.get_by_role("button", name="Add carol@abcinc.example")
    expect(add_carol).to_be_visible()
    expect(page.get_by_role("button", name="Add admin@abcinc.example")).to_have_count(0)
    add_carol.click()
    members = page.locator("#group-members")
    expect(members.get_by_role("status")).to_have_text("carol@abcinc.example added to “Managers”.")
    expect(members.get_by_role("cell", name="carol@abcinc.example", exact=True)).to_be_visible()
    expect(members.get_by_text("Member", exact=True)).to_be_visible()  # the search result, now in
    assert page.evaluate("window.noReload") is True
    assert list(group.members.values_list("email", flat=True)) == ["carol@abcinc.example"]

    # Who can approve timesheets? Carol, through the group.
    page.get_by_role("link", name="Timesheet approver").click()
    page.get_by_role("link", name="Who can approve:timesheets?").click()
    expect(page.get_by_role("heading", name="Who can?")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("carol@abcinc.example"))
    expect(row).to_contain_text("via group Managers")
    expect(page.get_by_label("Permission")).to_have_value(
        str(timesheets_api.scopes.get(value="approve:timesheets").pk)
    )

    # Picking another permission swaps the results in place.
    page.evaluate("window.noReload = true")
    page.get_by_label("Permission").select_option(label="read:timesheets")
    expect(page.get_by_text("Nobody holds read:timesheets.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/dashboard/roles/who-can/\?scope=\d+$"))
    assert page.evaluate("window.noReload") is True
