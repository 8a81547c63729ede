from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apis.services import api_update
from authz.services import role_assign, role_create, role_set_permissions
from tests.oauth import TIMESHEETS_API

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_previews_a_token_scope_by_scope(
    page, staff_user, password, user, public_client, timesheets_api
):
    api_update(api=timesheets_api, rbac_enabled=True)
    role = role_create(actor=None, name="Timesheet User")
    role_set_permissions(
        actor=None, role=role, permissions=timesheets_api.scopes.filter(value="read:timesheets")
    )
    role_assign(actor=None, role=role, user=user)

    page.goto("/dashboard/preview/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Token preview")).to_be_visible()

    page.get_by_label("User").select_option(label="alice@abcinc.example (Alice Anders)")
    page.get_by_label("Application").select_option(label="Timesheets Mobile (test) (Native)")
    page.get_by_label("API (audience)").select_option(label=f"Timesheets API ({TIMESHEETS_API})")
    page.get_by_label("Requested scopes").fill("openid profile read:timesheets approve:timesheets")
    page.evaluate("window.noReload = true")
    page.get_by_role("button", name="Preview").click()

    # htmx swaps the result in: no page load, and the URL can be shared.
    granted = page.get_by_role("row").filter(has_text="read:timesheets")
    expect(granted).to_contain_text("granted")
    expect(granted).to_contain_text("role Timesheet User")
    dropped = page.get_by_role("row").filter(has_text="approve:timesheets")
    expect(dropped).to_contain_text("dropped")
    expect(dropped).to_contain_text("not a permission of the user")
    expect(page.locator("#refresh-token")).to_have_text("No")
    access_token = page.locator("#access-token-claims")
    expect(access_token).to_contain_text('"scope": "openid profile read:timesheets"')
    expect(access_token).to_contain_text(f'"{TIMESHEETS_API}"')
    expect(access_token).to_contain_text('"https://abcinc.example/roles": [\n    "Timesheet User"')
    expect(page.locator("#id-token-claims")).to_contain_text('"name": "Alice Anders"')
    expect(page).to_have_url(re.compile(r"/dashboard/preview/\?user=\d+&client=\d+&api=\d+&scopes=openid"))
    assert page.evaluate("window.noReload") is True

    # A machine-to-machine application asks without a user; a missing grant is explained.
    page.get_by_label("User").select_option(index=0)
    page.get_by_label("Application").select_option(label="Timesheets Mobile (test) (Native)")
    page.get_by_label("Requested scopes").fill("openid")
    page.get_by_label("API (audience)").select_option(label="none (userinfo only)")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert")).to_contain_text("Pick a user: this application signs people in.")
