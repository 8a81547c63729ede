"""Dashboard forms that cannot repeat on reload, and an APIs tab that says what happened
(issue 13, point 9)."""

from __future__ import annotations

import html
import re
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password

from apis.models import Api
from clients import selectors, services
from clients.models import Client

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/applications/",
}
SECRET = re.compile(r'<code class="secret" id="client-secret">([^<]+)</code>')


@pytest.fixture
def batch() -> Client:
    client, _ = services.client_create(app_type=Client.AppType.M2M, name="Payroll Batch")
    return client


def _content(response) -> str:
    return html.unescape(response.content.decode())


def _grant(http, client: Client, api: Api, data: dict, **headers: Any):
    return http.post(f"/dashboard/applications/{client.pk}/apis/{api.pk}/", data, **headers)


# --- Create, then reload ----------------------------------------------------------------------


def test_creating_an_application_redirects_and_a_reload_creates_nothing(staff_client):
    response = staff_client.post(
        "/dashboard/applications/new/", {"name": "Payroll Batch", "app_type": "m2m", "redirect_uris": ""}
    )
    client = Client.objects.get()
    # Post/Redirect/Get: what the browser reloads is the GET, never the POST.
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/applications/{client.pk}/?tab=credentials"

    shown = staff_client.get(response["Location"])
    assert shown.status_code == HTTPStatus.OK
    assert "no-store" in shown["Cache-Control"]
    content = _content(shown)
    assert "Application “Payroll Batch” created." in content
    match = SECRET.search(content)
    assert match is not None
    secret = match.group(1)
    assert check_password(secret, client.client_secret)
    assert "Next: authorize it to call an API" in content

    reloaded = _content(staff_client.get(response["Location"]))
    assert Client.objects.count() == 1
    assert SECRET.search(reloaded) is None
    assert secret not in reloaded
    assert "Stored hashed: it cannot be shown again." in reloaded
    assert secret not in str(dict(staff_client.session))


def test_the_secret_is_shown_on_its_own_application_only(staff_client, batch):
    response = staff_client.post("/dashboard/applications/new/", {"name": "Other", "app_type": "m2m"})
    # Another application's credentials tab neither shows nor spends it.
    other = _content(staff_client.get(f"/dashboard/applications/{batch.pk}/?tab=credentials"))
    assert SECRET.search(other) is None
    assert SECRET.search(_content(staff_client.get(response["Location"]))) is not None


def test_a_secret_left_unshown_expires(staff_client, monkeypatch):
    response = staff_client.post("/dashboard/applications/new/", {"name": "Batch", "app_type": "m2m"})
    from clients import views

    monkeypatch.setattr(views, "SECRET_SHOWN_WITHIN", -1)
    content = _content(staff_client.get(response["Location"]))
    assert SECRET.search(content) is None
    assert "Stored hashed" in content


def test_creating_with_htmx_navigates_to_the_new_application(staff_client):
    response = staff_client.post("/dashboard/applications/new/", {"name": "Batch", "app_type": "m2m"}, **HTMX)
    client = Client.objects.get()
    assert response["HX-Redirect"] == f"/dashboard/applications/{client.pk}/?tab=credentials"


def test_a_public_application_is_created_once_too(staff_client):
    response = staff_client.post(
        "/dashboard/applications/new/",
        {"name": "Mobile", "app_type": "native", "redirect_uris": "com.abcinc.timesheets://callback"},
    )
    assert response.status_code == HTTPStatus.FOUND
    content = _content(staff_client.get(response["Location"]))
    assert "Application “Mobile” created." in content
    assert "it has none" in content
    assert SECRET.search(content) is None
    assert Client.objects.count() == 1


def test_creating_an_api_redirects(staff_client):
    response = staff_client.post(
        "/dashboard/apis/new/",
        {
            "name": "Payroll API",
            "identifier": "https://payroll.abcinc.example/",
            "signing_algorithm": "RS256",
        },
    )
    api = Api.objects.get(system=False)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/apis/{api.pk}/"
    staff_client.get(response["Location"])
    assert Api.objects.filter(system=False).count() == 1


# --- The APIs tab says what happened ----------------------------------------------------------


@pytest.mark.parametrize("headers", [HTMX, {}])
def test_unticking_authorized_on_an_api_never_granted_says_nothing_changed(
    staff_client, batch, payroll_api, headers
):
    response = _grant(staff_client, batch, payroll_api, {}, **headers)
    if not headers:
        response = staff_client.get(response["Location"])
    content = _content(response)
    assert "No longer authorized" not in content
    assert "Payroll Batch is not authorized to call Payroll API: nothing changed." in content
    assert selectors.client_grants(client=batch) == {}


@pytest.mark.parametrize("headers", [HTMX, {}])
def test_a_scope_ticked_without_authorized_is_not_dropped_silently(staff_client, batch, payroll_api, headers):
    response = _grant(staff_client, batch, payroll_api, {"scopes": ["run:payroll"]}, **headers)
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    assert f'id="id_grant_{payroll_api.pk}_scopes_error"' in content
    assert "Tick “Authorized” to grant run:payroll, or untick it: nothing was saved." in content
    # The row keeps what was ticked, so that ticking "Authorized" and saving again grants it.
    assert re.search(r'value="run:payroll"[^>]*checked', content)
    assert selectors.client_grants(client=batch) == {}


def test_a_scope_added_while_unticking_authorized_is_not_dropped_silently(staff_client, batch, payroll_api):
    services.client_grant_set(client=batch, api=payroll_api, scopes=["read:payslips"])
    response = _grant(staff_client, batch, payroll_api, {"scopes": ["read:payslips", "run:payroll"]}, **HTMX)
    assert "Tick “Authorized” to grant run:payroll" in _content(response)
    assert selectors.client_grants(client=batch) == {payroll_api.pk: {"read:payslips"}}


def test_unticking_authorized_still_ends_a_grant_with_its_scopes_left_ticked(
    staff_client, batch, payroll_api
):
    services.client_grant_set(client=batch, api=payroll_api, scopes=["read:payslips", "run:payroll"])
    response = _grant(staff_client, batch, payroll_api, {"scopes": ["read:payslips", "run:payroll"]}, **HTMX)
    assert "No longer authorized to call Payroll API." in _content(response)
    assert selectors.client_grants(client=batch) == {}
