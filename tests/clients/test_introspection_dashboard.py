"""The APIs tab's introspection toggle (issue 12, point 9): administrators allow or stop a
confidential application introspecting an API's tokens; auditors and public apps cannot."""

from __future__ import annotations

import html
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client as HttpClient

from accounts.models import AuditEntry
from apis.models import Api
from clients import services
from clients.models import Client
from tests.oauth import TIMESHEETS_API, basic_auth
from tests.security.helpers import WEB_CALLBACK, sign_in

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/applications/",
}


@pytest.fixture
def web_app() -> tuple[Client, str]:
    """A regular web app (confidential): it has no grant rows on the APIs tab."""
    client, secret = services.client_create(
        app_type=Client.AppType.REGULAR_WEB, name="Relying Party", redirect_uris=[WEB_CALLBACK]
    )
    assert secret is not None
    return client, secret


def _url(client: Client, api: Api) -> str:
    return f"/dashboard/applications/{client.pk}/introspection/{api.pk}/"


def _content(response) -> str:
    return html.unescape(response.content.decode())


def _introspect(token: str, caller: tuple[Client, str]) -> dict:
    client, secret = caller
    response = HttpClient().post(
        "/oauth/introspect", {"token": token}, HTTP_AUTHORIZATION=basic_auth(client.client_id, secret)
    )
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def test_every_api_has_a_toggle_for_a_web_app(staff_client, web_app, timesheets_api, payroll_api):
    content = _content(staff_client.get(f"/dashboard/applications/{web_app[0].pk}/?tab=apis"))
    for api in (timesheets_api, payroll_api):
        assert f'id="introspection-{api.pk}"' in content
        assert f'action="{_url(web_app[0], api)}"' in content
    assert content.count("May introspect tokens for this API") == 2
    assert 'id="grant-' not in content  # a web app has no client grants


def test_the_machine_apps_tab_has_the_toggle_too(staff_client, confidential_client, timesheets_api):
    content = _content(staff_client.get(f"/dashboard/applications/{confidential_client[0].pk}/?tab=apis"))
    assert f'id="grant-{timesheets_api.pk}"' in content
    assert f'id="introspection-{timesheets_api.pk}"' in content


def test_an_admin_allows_then_denies_and_introspection_follows(
    staff_client, staff_user, web_app, public_client, user_client, timesheets_api
):
    client = web_app[0]
    token = sign_in(user_client, public_client.client_id)["access_token"]
    assert _introspect(token, web_app) == {"active": False}

    allowed = staff_client.post(_url(client, timesheets_api), {"allowed": "on"})
    assert allowed.status_code == HTTPStatus.FOUND
    assert list(client.may_introspect.all()) == [timesheets_api]
    body = _introspect(token, web_app)
    assert body["active"] is True
    assert body["aud"] == [TIMESHEETS_API, "http://testserver/userinfo"]  # the token's own aud

    denied = staff_client.post(_url(client, timesheets_api), {})
    assert denied.status_code == HTTPStatus.FOUND
    assert not client.may_introspect.exists()
    assert _introspect(token, web_app) == {"active": False}

    actions = list(
        AuditEntry.objects.filter(target_id=str(client.pk), actor=staff_user).values_list(
            "action", "before", "after"
        )
    )
    assert ("client.introspection_allow", None, {"api": TIMESHEETS_API}) in actions
    assert ("client.introspection_deny", {"api": TIMESHEETS_API}, None) in actions


def test_without_javascript_it_redirects_to_the_row_with_a_message(staff_client, web_app, timesheets_api):
    client = web_app[0]
    response = staff_client.post(_url(client, timesheets_api), {"allowed": "on"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == (
        f"/dashboard/applications/{client.pk}/?tab=apis#introspection-{timesheets_api.pk}"
    )
    page = _content(staff_client.get(response["Location"]))
    assert "Relying Party may now introspect the access tokens for Timesheets API." in page
    assert f'id="id_introspection_{timesheets_api.pk}_allowed" checked' in page
    # Posting the same again (a reload) changes and audits nothing, and says so.
    again = staff_client.post(_url(client, timesheets_api), {"allowed": "on"}, follow=True)
    assert "Nothing changed" in _content(again)
    assert AuditEntry.objects.filter(action="client.introspection_allow").count() == 1


def test_htmx_gets_the_row_alone(staff_client, web_app, timesheets_api):
    client = web_app[0]
    response = staff_client.post(_url(client, timesheets_api), {"allowed": "on"}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "HX-Request" in response["Vary"]
    content = _content(response)
    assert content.lstrip().startswith(
        f'<section class="card introspection-row" id="introspection-{timesheets_api.pk}"'
    )
    assert "<html" not in content and 'id="grant-' not in content
    assert f'id="id_introspection_{timesheets_api.pk}_allowed" checked' in content
    assert 'role="status">Relying Party may now introspect the access tokens for Timesheets API.' in content

    unticked = _content(staff_client.post(_url(client, timesheets_api), {}, **HTMX))
    assert "checked" not in unticked
    assert "may no longer introspect" in unticked
    assert not client.may_introspect.exists()


def test_an_auditor_is_refused_and_nothing_changes(auditor_client, web_app, timesheets_api):
    client = web_app[0]
    response = auditor_client.post(_url(client, timesheets_api), {"allowed": "on"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not client.may_introspect.exists()
    assert not AuditEntry.objects.filter(action__startswith="client.introspection").exists()
    # and for a permission already given: the auditor cannot take it away either
    services.client_introspection_set(client=client, api=timesheets_api, allowed=True)
    assert auditor_client.post(_url(client, timesheets_api), {}, **HTMX).status_code == HTTPStatus.FORBIDDEN
    assert list(client.may_introspect.all()) == [timesheets_api]


def test_a_public_app_has_no_toggle_and_is_refused(staff_client, public_client, timesheets_api):
    page = _content(staff_client.get(f"/dashboard/applications/{public_client.pk}/?tab=apis"))
    assert "May introspect tokens for this API" not in page

    response = staff_client.post(_url(public_client, timesheets_api), {"allowed": "on"}, follow=True)
    assert response.redirect_chain[-1][1] == HTTPStatus.FOUND
    assert "A public application cannot authenticate to introspect tokens." in _content(response)
    fragment = _content(staff_client.post(_url(public_client, timesheets_api), {"allowed": "on"}, **HTMX))
    assert 'role="alert"' in fragment
    assert "A public application cannot authenticate to introspect tokens." in fragment
    assert not public_client.may_introspect.exists()
    assert not AuditEntry.objects.filter(action__startswith="client.introspection").exists()


def test_unknown_ids_are_404(staff_client, web_app, timesheets_api):
    client = web_app[0]
    assert (
        staff_client.post(
            _url(client, timesheets_api).replace(f"/{timesheets_api.pk}/", "/999999/")
        ).status_code
        == 404
    )
    assert (
        staff_client.post(f"/dashboard/applications/999999/introspection/{timesheets_api.pk}/").status_code
        == 404
    )


def test_only_post_is_accepted(staff_client, web_app, timesheets_api):
    assert staff_client.get(_url(web_app[0], timesheets_api)).status_code == HTTPStatus.METHOD_NOT_ALLOWED
