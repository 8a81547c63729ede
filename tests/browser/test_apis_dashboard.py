from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apis.models import Api

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_creates_an_api_and_adds_scopes_in_place(page, staff_user, password):
    page.goto("/dashboard/apis/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="APIs")).to_be_visible()

    page.get_by_role("link", name="Create API").click()
    page.get_by_label("Name").fill("Payroll")
    page.get_by_label("Identifier").fill("https://payroll.abcinc.example/")
    page.get_by_role("button", name="Create").click()

    expect(page).to_have_url(re.compile(r"/dashboard/apis/\d+/$"))
    api = Api.objects.get(identifier="https://payroll.abcinc.example/")
    assert page.url.endswith(f"/dashboard/apis/{api.pk}/")
    expect(page.get_by_role("heading", name="Payroll")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("API “Payroll” created.")

    page.get_by_role("link", name="Scopes").click()
    expect(page).to_have_url(re.compile(r"\?tab=scopes$"))
    # A marker on the window survives an htmx swap but not a page load.
    page.evaluate("window.noReload = true")

    page.get_by_label("Value").fill("read:payslips")
    page.get_by_label("Description").fill("Read payslips")
    page.get_by_role("button", name="Add scope").click()
    scopes = page.locator("#api-scopes table")
    expect(scopes.get_by_role("cell", name="read:payslips", exact=True)).to_be_visible()
    expect(scopes.get_by_role("cell", name="Read payslips", exact=True)).to_be_visible()
    expect(page.get_by_label("Value")).to_have_value("")  # a fresh form for the next scope

    page.get_by_label("Value").fill("read:payslips")
    page.get_by_label("Description").fill("Again")
    page.get_by_role("button", name="Add scope").click()
    expect(page.get_by_role("alert")).to_contain_text("This API already has a scope read:payslips.")
    expect(scopes.get_by_role("cell", name="read:payslips", exact=True)).to_have_count(1)

    page.get_by_label("Value").fill("openid")
    page.get_by_role("button", name="Add scope").click()
    expect(page.locator("#id_value_error")).to_contain_text("OpenID Connect scope")

    assert page.evaluate("window.noReload") is True
    assert list(api.scopes.values_list("value", flat=True)) == ["read:payslips"]
