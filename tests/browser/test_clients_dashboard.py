from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import check_password
from playwright.sync_api import expect

from apis.services import api_create
from clients import selectors, services
from clients.models import Client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, staff_user, password) -> None:
    page.goto("/dashboard/applications/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Applications")).to_be_visible()


def test_staff_creates_a_native_app_and_sees_its_client_id(page, staff_user, password):
    api_create(
        identifier="https://timesheets.abcinc.example/api",
        name="Timesheets API",
        scopes={"read:timesheets": "Read"},
    )
    api_create(
        identifier="https://payroll.abcinc.example/", name="Payroll API", scopes={"read:payslips": "Read"}
    )
    _sign_in(page, staff_user, password)

    page.get_by_role("link", name="Create application").click()
    page.get_by_label("Name").fill("Timesheets Mobile")
    page.get_by_role("radio", name="Native").check()
    page.get_by_label("Allowed callback URLs").fill("com.abcinc.timesheets://callback")
    page.get_by_role("button", name="Create").click()

    expect(page.get_by_role("heading", name="Timesheets Mobile")).to_be_visible()
    client = Client.objects.get(name="Timesheets Mobile")
    assert client.app_type == Client.AppType.NATIVE
    assert client.redirect_uris == "com.abcinc.timesheets://callback"
    expect(page.locator("#client-id")).to_have_text(client.client_id)
    expect(page.get_by_text("it has none")).to_be_visible()
    expect(page.locator("#client-secret")).to_have_count(0)

    # The quickstart follows the API picked in the select, without a page load.
    page.get_by_role("navigation", name="Application sections").get_by_role("link", name="Quickstart").click()
    page.evaluate("window.noReload = true")
    snippet = page.locator("#quickstart pre code").first
    expect(snippet).to_contain_text(f'"client_id": "{client.client_id}"')
    expect(snippet).to_contain_text('"audience": "https://payroll.abcinc.example/"')
    page.get_by_label("API (audience)").select_option(
        label="Timesheets API (https://timesheets.abcinc.example/api)"
    )
    expect(snippet).to_contain_text('"audience": "https://timesheets.abcinc.example/api"')
    expect(page).to_have_url(re.compile(r"\?tab=quickstart&api=\d+$"))
    assert page.evaluate("window.noReload") is True

    page.get_by_role("link", name="Applications").first.click()
    expect(page.get_by_role("row", name=re.compile("Timesheets Mobile"))).to_contain_text("Native")


def test_staff_creates_an_m2m_app_and_authorizes_an_api(page, staff_user, password):
    api = api_create(
        identifier="https://payroll.abcinc.example/",
        name="Payroll API",
        scopes={"read:payslips": "Read payslips", "run:payroll": "Run the payroll"},
    )
    _sign_in(page, staff_user, password)

    page.get_by_role("link", name="Create application").click()
    page.get_by_label("Name").fill("Payroll Batch")
    callbacks = page.get_by_label("Allowed callback URLs")
    expect(callbacks).to_be_visible()
    page.get_by_role("radio", name="Machine to Machine").check()
    expect(callbacks).to_be_hidden()  # a machine has no callbacks
    page.get_by_role("button", name="Create").click()

    expect(page.get_by_role("heading", name="Payroll Batch")).to_be_visible()
    expect(page.get_by_text("Copy it now: it will not be shown again.")).to_be_visible()
    secret = page.locator("#client-secret").inner_text()
    client = Client.objects.get(name="Payroll Batch")
    assert client.client_secret != secret
    assert check_password(secret, client.client_secret)

    tabs = page.get_by_role("navigation", name="Application sections")
    tabs.get_by_role("link", name="APIs").click()
    expect(page).to_have_url(re.compile(r"\?tab=apis$"))
    page.evaluate("window.noReload = true")
    row = page.locator(f"#grant-{api.pk}")
    row.get_by_label("Authorized").check()
    row.get_by_label("run:payroll").check()
    row.get_by_role("button", name="Save").click()
    expect(page.locator(f"#grant-{api.pk}").get_by_role("status")).to_have_text(
        "Authorized to call Payroll API."
    )
    assert page.evaluate("window.noReload") is True
    assert selectors.client_grants(client=client) == {api.pk: {"run:payroll"}}

    page.reload()
    row = page.locator(f"#grant-{api.pk}")
    expect(row.get_by_label("Authorized")).to_be_checked()
    expect(row.get_by_label("run:payroll")).to_be_checked()
    expect(row.get_by_label("read:payslips")).not_to_be_checked()

    # The secret was shown once: the Credentials tab cannot show it again.
    tabs.get_by_role("link", name="Credentials").click()
    expect(page.get_by_text("Stored hashed: it cannot be shown again.")).to_be_visible()
    assert secret not in page.content()


def test_reloading_the_created_page_creates_nothing_and_hides_the_secret(page, staff_user, password):
    """Issue 13, point 9: the page that shows the new secret is a GET; reloading it repeats nothing."""
    _sign_in(page, staff_user, password)
    page.get_by_role("link", name="Create application").click()
    page.get_by_label("Name").fill("Payroll Batch")
    page.get_by_role("radio", name="Machine to Machine").check()
    page.get_by_role("button", name="Create").click()

    expect(page.get_by_text("Application “Payroll Batch” created.")).to_be_visible()
    secret = page.locator("#client-secret").inner_text()
    client = Client.objects.get(name="Payroll Batch")
    assert check_password(secret, client.client_secret)

    page.reload()
    expect(page.get_by_role("heading", name="Payroll Batch")).to_be_visible()
    assert Client.objects.count() == 1
    expect(page).to_have_url(re.compile(rf"/dashboard/applications/{client.pk}/\?tab=credentials$"))
    expect(page.get_by_text("Stored hashed: it cannot be shown again.")).to_be_visible()
    expect(page.locator("#client-secret")).to_have_count(0)
    assert secret not in page.content()
    # The secret shown once still works: reloading did not rotate or replace it.
    client.refresh_from_db()
    assert check_password(secret, client.client_secret)

    page.go_back()
    page.go_forward()
    assert secret not in page.content()
    assert Client.objects.count() == 1


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_an_admin_lets_a_web_app_introspect_an_api(page, viewport, staff_user, password):
    """Issue 12, point 9: the box posts on its own (htmx) and stays ticked after a reload."""
    api = api_create(
        identifier="https://payroll.abcinc.example/", name="Payroll API", scopes={"read:payslips": "Read"}
    )
    client, _ = services.client_create(
        app_type=Client.AppType.REGULAR_WEB, name="Payroll Web", redirect_uris=["https://payroll.example/cb"]
    )
    page.set_viewport_size(viewport)
    _sign_in(page, staff_user, password)
    page.goto(f"/dashboard/applications/{client.pk}/?tab=apis")
    page.evaluate("window.noReload = true")
    row = page.locator(f"#introspection-{api.pk}")
    box = row.get_by_label("May introspect tokens for this API")
    box.scroll_into_view_if_needed()
    expect(box).to_be_in_viewport()
    # Nothing makes a phone scroll sideways, and the row fits its card.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    card, label = row.bounding_box(), row.locator("label").bounding_box()
    assert card is not None and label is not None
    assert card["x"] <= label["x"] and label["x"] + label["width"] <= card["x"] + card["width"]
    box.check()
    expect(page.locator(f"#introspection-{api.pk}").get_by_role("status")).to_have_text(
        "Payroll Web may now introspect the access tokens for Payroll API."
    )
    assert page.evaluate("window.noReload") is True
    assert list(client.may_introspect.all()) == [api]

    page.reload()
    expect(
        page.locator(f"#introspection-{api.pk}").get_by_label("May introspect tokens for this API")
    ).to_be_checked()
