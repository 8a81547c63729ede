"""An administrator gives a machine application Management API rights in the dashboard,
copies the Quickstart's calls, and reads the API's reference (Swagger UI, served locally)."""

from __future__ import annotations

import base64
import re
import shlex
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from apis.models import Api, Scope
from apis.system import MANAGEMENT_API_NAME, management_api_register
from clients import services
from clients.models import Client
from tests.oauth import ISSUER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def management_api(transactional_db) -> Api:
    """The Management API as its migration registers it: a live server needs committed data,
    and the flush after every such test takes the migration's rows away from the next one."""
    management_api_register(Api, Scope)
    return Api.objects.get(system=True)


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _sign_in(page, staff_user, password) -> None:
    page.goto("/dashboard/apis/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="APIs")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_an_admin_grants_management_rights_and_the_quickstart_call_works(
    page, viewport, live_server, management_api, staff_user, password, user
):
    management = management_api
    client, secret = services.client_create(app_type=Client.AppType.M2M, name="HR sync")
    assert secret is not None  # a machine is confidential
    page.set_viewport_size(viewport)
    _sign_in(page, staff_user, password)

    # The system API is listed, marked, and offers no way to delete it.
    page.get_by_role("link", name=MANAGEMENT_API_NAME).click()
    expect(page.get_by_text("System API")).to_be_visible()
    expect(page.get_by_role("link", name="Delete API")).to_have_count(0)

    page.goto(f"/dashboard/applications/{client.pk}/?tab=apis")
    row = page.locator(f"#grant-{management.pk}")
    row.get_by_label("Authorized").check()
    row.get_by_role("checkbox", name=re.compile(r"^read:users\b")).check()
    row.get_by_role("button", name="Save").click()
    expect(page.locator(f"#grant-{management.pk}").get_by_role("status")).to_have_text(
        f"Authorized to call {MANAGEMENT_API_NAME}."
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.goto(f"/dashboard/applications/{client.pk}/?tab=quickstart")
    expect(page.get_by_role("heading", name="Call the Management API")).to_be_visible()
    token_request, call = (text for text in page.locator("pre code").all_inner_texts())
    assert f"audience={management.identifier}" in token_request
    token = _token(page, token_request, secret)
    url = urlsplit(shlex.split(call.replace("\\\n", " "))[1])
    # The snippet names the issuer (OIDC_ISSUER); the test server listens elsewhere.
    assert (url.scheme, url.netloc) == (urlsplit(ISSUER).scheme, urlsplit(ISSUER).netloc)
    assert f"{url.path}?{url.query}" == "/api/v2/users?page_size=10"
    answer = page.request.get(f"{url.path}?{url.query}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 200
    assert user.email in [person["email"] for person in answer.json()["results"]]


def _token(page, token_request: str, secret: str) -> str:
    """Send the Quickstart's token request as written (curl's --user and --data options)."""
    words = shlex.split(token_request.replace("\\\n", " ").replace("$CLIENT_SECRET", secret))
    url, options = words[3], words[4:]
    form, auth = {}, None
    for option, value in zip(options[::2], options[1::2], strict=True):
        if option == "--user":
            auth = value
        else:
            name, _, field = value.partition("=")
            form[name] = field
    basic = "Basic " + base64.b64encode((auth or "").encode()).decode()  # curl's --user
    answer = page.request.post(urlsplit(url).path, form=form, headers={"Authorization": basic})
    assert answer.status == 200, answer.text()
    return answer.json()["access_token"]


def test_the_reference_renders_every_operation(page, management_api):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/api/v2/docs")

    # Swagger UI builds the page from a large schema: on a loaded machine that outlasts the
    # default five seconds (seen once, with other suites running beside it).
    heading = page.get_by_role("heading", name=re.compile(MANAGEMENT_API_NAME))
    expect(heading).to_be_visible(timeout=30_000)
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 60
    # The Authorize dialog offers the client-credentials flow with the API's scopes.
    page.get_by_role("button", name=re.compile("Authorize")).first.click()
    expect(page.get_by_text("clientCredentials").first).to_be_visible()
    expect(page.get_by_text("read:users").first).to_be_visible()
    assert errors == []
