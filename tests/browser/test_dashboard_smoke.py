from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_signs_in_sees_the_dashboard_and_searches_users(page, staff_user, password):
    User.objects.create_user(email="bob@abcinc.example", password=password, name="Bob Brown")

    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/dashboard/$"))
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_role("navigation", name="Dashboard")).to_contain_text("Applications")

    page.get_by_role("link", name="Users").first.click()
    expect(page.get_by_role("cell", name="bob@abcinc.example")).to_be_visible()
    page.get_by_role("searchbox", name="Search users").fill("admin")
    # htmx swaps the results in place: Bob disappears without a page load.
    expect(page.get_by_role("cell", name="bob@abcinc.example")).to_have_count(0)
    expect(page.get_by_role("cell", name="admin@abcinc.example")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/dashboard/users/\?q=admin$"))


def test_wrong_password_is_shown_inline(page, staff_user):
    page.goto("/login/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct email address and password")
