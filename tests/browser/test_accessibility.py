"""axe-core in real Chromium over every dashboard and employee page: no violation of
serious or critical impact, for the administrator, an employee, a manager and a stranger.

The pages are filled with the demo scenario (``seed_demo``) and a few timesheet entries,
so lists, tabs and forms render with rows in them rather than their empty states. Each
test collects every page's violations before asserting, so one run names them all.
"""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from accounts.models import User
from apis.models import Api
from authz.models import Group, Role
from clients.models import Client
from tests.oauth import Pkce, authorize_url
from timesheets.demo import MOBILE_CLIENT_ID
from timesheets.models import Entry
from timesheets.services import entry_create, week_submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Demo-password-2026"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def demo(db) -> None:
    """The demo scenario, with Alice's week submitted and a draft of Bob's."""
    call_command("seed_demo", "--password", PASSWORD, stdout=StringIO())
    monday = datetime.date.today() - datetime.timedelta(days=datetime.date.today().weekday())
    alice = User.objects.get(email="alice@abcinc.example")
    entry_create(worker=alice, date=monday, project="Apollo", hours="7.5", notes="Design review")
    entry_create(worker=alice, date=monday + datetime.timedelta(days=1), project="Gemini", hours="6")
    week_submit(worker=alice, monday=monday)
    entry_create(
        worker=User.objects.get(email="bob@abcinc.example"), date=monday, project="Apollo", hours="4"
    )


def _signed_in(page, live_server, email: str) -> None:
    """Carry a Django session for ``email`` into the browser (sign-in itself is audited below)."""
    http = HttpClient()
    http.force_login(User.objects.get(email=email))
    cookie = http.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def _audit_all(page, axe, paths: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        violations = axe(page)
        if violations:
            found[path] = violations
    return found


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{path}: {violation}" for path, violations in found.items() for violation in violations)


def _optional(*names: str) -> list[str]:
    """Pages that other parts of the dashboard add (the overview, the logs) once they exist."""
    paths = []
    for name in names:
        try:
            paths.append(reverse(name))
        except NoReverseMatch:
            continue
    return paths


def _dashboard_paths() -> list[str]:
    api = Api.objects.get(identifier__contains="timesheets")
    machine = Client.objects.filter(app_type=Client.AppType.M2M).first()
    native = Client.objects.get(client_id=MOBILE_CLIENT_ID)
    alice = User.objects.get(email="alice@abcinc.example")
    role, group = Role.objects.first(), Group.objects.first()
    assert machine and role and group
    paths = ["/dashboard/", "/dashboard/apis/", "/dashboard/apis/new/"]
    paths += [
        f"/dashboard/apis/{api.pk}/?tab={tab}" for tab in ("settings", "scopes", "signing", "quickstart")
    ]
    paths += [f"/dashboard/apis/{api.pk}/delete/", "/dashboard/applications/", "/dashboard/applications/new/"]
    for client in (native, machine):
        paths += [
            f"/dashboard/applications/{client.pk}/?tab={tab}"
            for tab in ("settings", "credentials", "apis", "quickstart")
        ]
    paths += [f"/dashboard/applications/{machine.pk}/delete/"]
    paths += ["/dashboard/users/", "/dashboard/people/new/", "/dashboard/people/import/"]
    paths += [f"/dashboard/people/{alice.pk}/", f"/dashboard/people/{alice.pk}/delete/"]
    paths += ["/dashboard/roles/", f"/dashboard/roles/{role.pk}/"]
    paths += [f"/dashboard/roles/who-can/?api={api.pk}", f"/dashboard/roles/{role.pk}/delete/"]
    paths += ["/dashboard/groups/", f"/dashboard/groups/{group.pk}/"]
    paths += [f"/dashboard/groups/{group.pk}/delete/"]
    paths += ["/dashboard/rules/", "/dashboard/preview/", "/dashboard/transfer/", "/dashboard/mfa/"]
    paths += ["/dashboard/lockouts/", "/dashboard/audit/", "/time/bulk/"]
    return paths + _optional(
        "authz-dashboard:overview", "overview:index", "logs:list", "authz-dashboard:logs"
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "390px"])
def test_every_dashboard_page_passes_axe(page, live_server, axe, demo, viewport):
    page.set_viewport_size(viewport)
    _signed_in(page, live_server, "admin@abcinc.example")
    found = _audit_all(page, axe, _dashboard_paths())
    assert not found, _report(found)


def test_every_employee_page_passes_axe(page, live_server, axe, demo, public_client):
    _signed_in(page, live_server, "alice@abcinc.example")
    paths = ["/time/", "/account/", "/account/password/", "/account/sessions/"]
    paths += ["/account/security/", "/account/security/authenticator/", "/login/enrol/?next=/account/"]
    found = _audit_all(page, axe, paths)

    # The consent screen of a third-party app (the demo's own apps skip it).
    page.goto(authorize_url(public_client.client_id, Pkce.new()))
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    if violations := axe(page):
        found["/authorize"] = violations
    assert not found, _report(found)


def test_the_managers_approvals_pass_axe(page, live_server, axe, demo):
    assert Entry.objects.filter(status=Entry.Status.SUBMITTED).exists()
    _signed_in(page, live_server, "manager@abcinc.example")
    found = _audit_all(page, axe, ["/time/", "/time/approvals/"])
    assert not found, _report(found)


def test_pages_before_sign_in_pass_axe(page, axe, demo):
    found = _audit_all(page, axe, ["/login/", "/password/forgot/"])
    page.get_by_label("Email address")  # the page is the form, not an error
    page.goto("/login/")
    page.get_by_label("Email address").fill("alice@abcinc.example")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    if violations := axe(page):
        found["/login/ (wrong password)"] = violations
    assert not found, _report(found)


def test_flash_messages_error_pages_and_a_forbidden_page_pass_axe(page, live_server, axe, demo):
    _signed_in(page, live_server, "admin@abcinc.example")
    page.goto("/dashboard/apis/new/")
    page.get_by_label("Name").fill("Billing")
    page.get_by_label("Identifier").fill("https://billing.abcinc.example/api")
    page.get_by_role("button", name="Create").click()
    flash = page.get_by_role("status").filter(has_text="API “Billing” created.")
    expect(flash.get_by_role("listitem")).to_have_count(1)
    found = {}
    if violations := axe(page):
        found["flash message"] = violations
    assert page.goto("/dashboard/no-such-page/").status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    if violations := axe(page):
        found["404"] = violations

    _signed_in(page, live_server, "alice@abcinc.example")
    assert page.goto("/dashboard/").status == 403
    expect(page.get_by_role("heading", name="You do not have access to this page")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="My week")).to_be_visible()
    if violations := axe(page):
        found["403"] = violations
    assert not found, _report(found)


def test_the_skip_link_is_the_first_stop_and_lands_on_the_content(page, live_server, demo):
    _signed_in(page, live_server, "admin@abcinc.example")
    for path in ("/dashboard/users/", "/time/"):
        page.goto(path)
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page.locator("main#main")).to_be_focused()
        # The next stop is inside the content, not back in the menu.
        page.keyboard.press("Tab")
        assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


def test_focus_stays_on_a_search_box_and_moves_to_a_replaced_region(page, live_server, demo):
    _signed_in(page, live_server, "admin@abcinc.example")
    page.goto("/dashboard/users/")
    search = page.get_by_role("searchbox", name="Search users")
    search.fill("alice")
    expect(page.get_by_role("cell", name="bob@abcinc.example")).to_have_count(0)
    expect(search).to_be_focused()

    # Submitting a week replaces the form holding the focused button: focus goes to the week.
    page.context.clear_cookies()
    _signed_in(page, live_server, "bob@abcinc.example")
    page.goto("/time/")
    page.once("dialog", lambda dialog: dialog.accept())  # the page asks before submitting
    page.get_by_role("button", name="Submit week").focus()
    page.keyboard.press("Enter")
    week = page.locator("#week")
    expect(week.get_by_role("status")).to_contain_text("Submitted 1 entr")
    expect(week).to_be_focused()


def test_the_dashboard_menu_folds_on_a_phone_and_opens_on_demand(page, live_server, demo):
    _signed_in(page, live_server, "admin@abcinc.example")
    page.set_viewport_size(PHONE)
    page.goto("/dashboard/")
    nav = page.get_by_role("navigation", name="Dashboard")
    users = nav.get_by_role("link", name="Users")
    expect(users).to_be_hidden()
    nav.get_by_text("Menu").click()
    expect(users).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.set_viewport_size(DESKTOP)
    page.goto("/dashboard/")
    expect(nav.get_by_text("Menu")).to_be_hidden()
    expect(users).to_be_visible()
