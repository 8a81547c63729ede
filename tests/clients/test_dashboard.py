"""The Applications section of the staff dashboard: registry, settings, credentials, APIs, quickstart."""

from __future__ import annotations

import base64
import html
import re
import shlex
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient

from apis.models import Api
from apis.system import MANAGEMENT_SCOPES
from clients import selectors, services
from clients.models import Client, ClientGrant
from tests.oauth import ISSUER, MOBILE_CALLBACK, consent_fields, redirect_params

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/applications/",
}
WEB_CALLBACK = "https://timesheets.abcinc.example/callback"


@pytest.fixture
def native_app() -> Client:
    client, _ = services.client_create(
        app_type=Client.AppType.NATIVE, name="Timesheets Mobile", redirect_uris=[MOBILE_CALLBACK]
    )
    return client


@pytest.fixture
def web_app() -> tuple[Client, str]:
    client, secret = services.client_create(
        app_type=Client.AppType.REGULAR_WEB, name="Timesheets Web", redirect_uris=[WEB_CALLBACK]
    )
    assert secret is not None  # a confidential application has one
    return client, secret


@pytest.fixture
def m2m_app() -> tuple[Client, str]:
    client, secret = services.client_create(app_type=Client.AppType.M2M, name="Payroll Batch")
    assert secret is not None  # a confidential application has one
    return client, secret


def _content(response) -> str:
    return html.unescape(response.content.decode())


def _protected(client: Client, api: Api) -> list[tuple[str, str]]:
    return [
        ("get", "/dashboard/applications/"),
        ("get", "/dashboard/applications/new/"),
        ("post", "/dashboard/applications/new/"),
        ("get", f"/dashboard/applications/{client.pk}/"),
        ("get", f"/dashboard/applications/{client.pk}/?tab=credentials"),
        ("post", f"/dashboard/applications/{client.pk}/settings/"),
        ("post", f"/dashboard/applications/{client.pk}/credentials/rotate/"),
        ("post", f"/dashboard/applications/{client.pk}/apis/{api.pk}/"),
        ("get", f"/dashboard/applications/{client.pk}/delete/"),
        ("post", f"/dashboard/applications/{client.pk}/delete/"),
    ]


ATTACK = {
    "name": "Hijacked",
    "app_type": "m2m",
    "confirm": "on",
    "authorized": "on",
    "scopes": ["read:payslips"],
}


def test_anonymous_users_are_sent_to_login(m2m_app, payroll_api):
    client, secret = m2m_app
    for method, path in _protected(client, payroll_api):
        response = getattr(HttpClient(), method)(path, ATTACK)
        assert response.status_code == HTTPStatus.FOUND, path
        assert response["Location"].startswith("/login/?next="), path
    client.refresh_from_db()
    assert client.name == "Payroll Batch"
    assert check_password(secret, client.client_secret)
    assert Client.objects.count() == 1
    assert not ClientGrant.objects.exists()


def test_anonymous_htmx_requests_get_a_client_redirect(m2m_app, payroll_api):
    client, _ = m2m_app
    path = f"/dashboard/applications/{client.pk}/apis/{payroll_api.pk}/"
    response = HttpClient().post(path, ATTACK, **HTMX)
    assert response["HX-Redirect"].startswith("/login/?next=")
    assert not ClientGrant.objects.exists()


def test_non_staff_users_are_forbidden(user_client, m2m_app, payroll_api):
    client, secret = m2m_app
    for method, path in _protected(client, payroll_api):
        response = getattr(user_client, method)(path, ATTACK)
        assert response.status_code == HTTPStatus.FORBIDDEN, path
        assert client.client_id not in response.content.decode(), path
    client.refresh_from_db()
    assert client.name == "Payroll Batch"
    assert check_password(secret, client.client_secret)
    assert Client.objects.count() == 1
    assert not ClientGrant.objects.exists()


def test_unknown_or_unsuitable_targets_are_404(staff_client, native_app, m2m_app, payroll_api):
    client, _ = m2m_app
    for method, path in [
        ("get", "/dashboard/applications/999999/"),
        ("post", "/dashboard/applications/999999/settings/"),
        ("get", "/dashboard/applications/999999/delete/"),
        ("post", "/dashboard/applications/999999/credentials/rotate/"),
        ("post", f"/dashboard/applications/999999/apis/{payroll_api.pk}/"),
        ("post", f"/dashboard/applications/{client.pk}/apis/999999/"),
        # A public application has no secret; a user-facing one gets no API grant.
        ("post", f"/dashboard/applications/{native_app.pk}/credentials/rotate/"),
        ("post", f"/dashboard/applications/{native_app.pk}/apis/{payroll_api.pk}/"),
    ]:
        response = getattr(staff_client, method)(path, {"confirm": "on", "authorized": "on"})
        assert response.status_code == HTTPStatus.NOT_FOUND, path
    assert not ClientGrant.objects.exists()
    native_app.refresh_from_db()
    assert native_app.client_secret == ""


def test_list_shows_name_type_and_client_id(staff_client, native_app, m2m_app):
    response = staff_client.get("/dashboard/applications/")
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    assert [client.name for client in response.context["clients"]] == ["Payroll Batch", "Timesheets Mobile"]
    assert f'<a href="/dashboard/applications/{native_app.pk}/">Timesheets Mobile</a>' in content
    assert f"<code>{native_app.client_id}</code>" in content
    assert '<span class="badge type-native">Native</span>' in content
    assert '<span class="badge type-m2m">Machine to Machine</span>' in content
    assert 'href="/dashboard/applications/new/"' in content


def test_sidebar_links_to_applications(staff_client):
    response = staff_client.get("/dashboard/applications/")
    assert (
        '<a href="/dashboard/applications/" aria-current="page">Applications</a>' in response.content.decode()
    )


def test_create_page_offers_every_type_with_its_summary(staff_client):
    response = staff_client.get("/dashboard/applications/new/")
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    for value, label in Client.AppType.choices:
        assert f'value="{value}"' in content
        assert label in content
        assert Client(app_type=value).profile.summary in content
    assert 'name="redirect_uris"' in content
    assert "<textarea" in content


@pytest.mark.parametrize(
    ("app_type", "callbacks", "public", "auth_method", "grant_type"),
    [
        ("native", f"{MOBILE_CALLBACK}\nhttp://127.0.0.1/callback", True, "none", "authorization-code"),
        ("spa", "https://app.abcinc.example/callback", True, "none", "authorization-code"),
        ("regular_web", f"{WEB_CALLBACK}\r\n", False, "client_secret_basic", "authorization-code"),
        ("m2m", "", False, "client_secret_basic", "client-credentials"),
    ],
)
def test_create_shows_the_credentials_once(
    staff_client, app_type, callbacks, public, auth_method, grant_type
):
    posted = staff_client.post(
        "/dashboard/applications/new/",
        {"name": " ABC App ", "app_type": app_type, "redirect_uris": callbacks},
    )

    # The credentials tab of the new application, on the page the POST redirects to.
    client = Client.objects.get()
    assert posted.status_code == HTTPStatus.FOUND
    assert posted["Location"] == f"/dashboard/applications/{client.pk}/?tab=credentials"
    response = staff_client.get(posted["Location"])
    assert response.status_code == HTTPStatus.OK
    assert client.name == "ABC App"
    assert client.app_type == app_type
    assert client.token_endpoint_auth_method == auth_method
    assert client.authorization_grant_type == grant_type
    assert client.client_type == ("public" if public else "confidential")
    assert client.redirect_uris.split() == callbacks.split()
    content = _content(response)
    assert response.context["tab"] == "credentials"
    assert f'<code id="client-id">{client.client_id}</code>' in content
    assert "Application “ABC App” created." in content
    assert "no-store" in response["Cache-Control"]

    match = re.search(r'<code class="secret" id="client-secret">([^<]+)</code>', content)
    if public:
        assert match is None
        assert client.client_secret == ""
        assert "it has none" in content
        assert "PKCE" in content
    else:
        assert match is not None
        secret = match.group(1)
        assert "Copy it now: it will not be shown again." in content
        assert len(secret) >= 40
        assert client.client_secret != secret
        assert check_password(secret, client.client_secret)
        # Not kept anywhere for later: the next page shows no secret.
        later = _content(staff_client.get(f"/dashboard/applications/{client.pk}/?tab=credentials"))
        assert secret not in later
        assert "Stored hashed" in later
        assert secret not in str(dict(staff_client.session))


def test_m2m_app_ignores_callbacks_left_in_the_form(staff_client):
    response = staff_client.post(
        "/dashboard/applications/new/", {"name": "Batch", "app_type": "m2m", "redirect_uris": WEB_CALLBACK}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert Client.objects.get().redirect_uris == ""


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "app_type": "spa", "redirect_uris": WEB_CALLBACK}, "name", "This field is required."),
        ({"name": "App", "redirect_uris": WEB_CALLBACK}, "app_type", "This field is required."),
        ({"name": "App", "app_type": "desktop"}, "app_type", "Select a valid choice."),
        (
            {"name": "App", "app_type": "regular_web", "redirect_uris": "javascript:alert(1)"},
            "redirect_uris",
            "javascript:alert(1): not a callback URL.",
        ),
        (
            {"name": "App", "app_type": "spa", "redirect_uris": "javascript:alert(1)"},
            "redirect_uris",
            "not a callback URL",
        ),
        (
            {"name": "App", "app_type": "regular_web", "redirect_uris": "http://app.abcinc.example/cb"},
            "redirect_uris",
            "web callbacks must use https",
        ),
        (
            {"name": "App", "app_type": "native", "redirect_uris": "http://localhost/cb"},
            "redirect_uris",
            "must be the loopback IP",
        ),
        (
            {"name": "App", "app_type": "native", "redirect_uris": "myapp://callback"},
            "redirect_uris",
            "must be a reverse domain name",
        ),
        (
            {"name": "App", "app_type": "spa", "redirect_uris": "https://app.abcinc.example/*"},
            "redirect_uris",
            "wildcards are not allowed",
        ),
        ({"name": "App", "app_type": "spa", "redirect_uris": ""}, "redirect_uris", "at least one callback"),
    ],
)
def test_create_errors_are_inline_and_create_nothing(staff_client, data, field, message):
    response = staff_client.post("/dashboard/applications/new/", data)
    assert response.status_code == HTTPStatus.OK
    assert any(message in error for error in response.context["form"].errors[field])
    content = _content(response)
    assert f'<p class="field-error" id="id_{field}_error">' in content
    assert message in content
    assert not Client.objects.exists()
    # The form keeps what was typed, one URL per line.
    if data.get("redirect_uris"):
        assert data["redirect_uris"] in content


def test_settings_tab_shows_the_type_fields(staff_client, native_app, web_app, m2m_app):
    spa, _ = services.client_create(
        app_type="spa", name="SPA", redirect_uris=["https://spa.abcinc.example/cb"]
    )
    fields = {
        client.app_type: set(
            staff_client.get(f"/dashboard/applications/{client.pk}/").context["settings_form"].fields
        )
        for client in (native_app, web_app[0], m2m_app[0], spa)
    }
    common = {"name", "app_type", "client_id", "description", "logo_uri", "require_dpop"}
    user_app = common | {
        "redirect_uris",
        "post_logout_redirect_uris",
        "first_party",
        "require_mfa",
        "require_par",
        "rotate_refresh_token",
        "refresh_token_absolute_lifetime",
        "refresh_token_idle_lifetime",
        "logout_revokes_refresh_tokens",
        "backchannel_logout_uri",
        "backchannel_logout_session_required",
    }
    # The device flow (RFC 8628) for the apps a person may sign in to from another device.
    assert fields["native"] == user_app | {"device_code_enabled"}
    assert fields["spa"] == user_app | {"allowed_origins"}
    # Confidential apps authenticate: with a secret, or with keys (private_key_jwt).
    keys = {"token_endpoint_auth_method", "jwks", "jwks_uri"}
    assert fields["regular_web"] == user_app | keys | {"device_code_enabled"}
    assert fields["m2m"] == common | keys

    page = _content(staff_client.get(f"/dashboard/applications/{web_app[0].pk}/?tab=settings"))
    select = re.search(r'<select name="token_endpoint_auth_method".*?</select>', page, re.DOTALL)
    assert select is not None
    methods = select.group(0)
    assert re.findall(r'value="([^"]*)"', methods) == [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ]
    # The callbacks are one URL per line.
    assert f">\n{WEB_CALLBACK}</textarea>" in page


def test_settings_update(staff_client, native_app):
    response = staff_client.post(
        f"/dashboard/applications/{native_app.pk}/settings/",
        {
            "name": "Timesheets for iOS",
            "description": "The iPhone app.",
            "logo_uri": "https://abcinc.example/logo.png",
            "redirect_uris": f"{MOBILE_CALLBACK}\r\nhttp://127.0.0.1/callback\r\n\r\n",
            "post_logout_redirect_uris": "com.abcinc.timesheets://logout",
            "first_party": "on",
            "refresh_token_absolute_lifetime": "86400",
            "refresh_token_idle_lifetime": "3600",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/applications/{native_app.pk}/?tab=settings"
    native_app.refresh_from_db()
    assert native_app.name == "Timesheets for iOS"
    assert native_app.description == "The iPhone app."
    assert native_app.logo_uri == "https://abcinc.example/logo.png"
    assert native_app.redirect_uris == f"{MOBILE_CALLBACK} http://127.0.0.1/callback"
    assert native_app.post_logout_redirect_uris == "com.abcinc.timesheets://logout"
    assert native_app.first_party
    assert not native_app.rotate_refresh_token  # an unticked box
    assert (native_app.refresh_token_absolute_lifetime, native_app.refresh_token_idle_lifetime) == (
        86400,
        3600,
    )
    assert "Settings saved." in staff_client.get(response["Location"]).content.decode()


def test_spa_origins_and_web_auth_method(staff_client, web_app):
    spa, _ = services.client_create(
        app_type="spa", name="SPA", redirect_uris=["https://spa.abcinc.example/cb"]
    )
    response = staff_client.post(
        f"/dashboard/applications/{spa.pk}/settings/",
        {
            "name": "SPA",
            "redirect_uris": "https://spa.abcinc.example/cb",
            "allowed_origins": "https://spa.abcinc.example\nhttps://spa2.abcinc.example",
            "refresh_token_absolute_lifetime": "86400",
            "refresh_token_idle_lifetime": "3600",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    spa.refresh_from_db()
    assert spa.allowed_origins == "https://spa.abcinc.example https://spa2.abcinc.example"

    client, _ = web_app
    data = {
        "name": "Web",
        "redirect_uris": WEB_CALLBACK,
        "refresh_token_absolute_lifetime": "86400",
        "refresh_token_idle_lifetime": "3600",
    }
    path = f"/dashboard/applications/{client.pk}/settings/"
    response = staff_client.post(path, {**data, "token_endpoint_auth_method": "client_secret_post"})
    assert response.status_code == HTTPStatus.FOUND
    client.refresh_from_db()
    assert client.token_endpoint_auth_method == "client_secret_post"

    # A confidential client cannot become public through its auth method.
    response = staff_client.post(path, {**data, "token_endpoint_auth_method": "none"})
    assert response.status_code == HTTPStatus.OK
    assert 'id="id_token_endpoint_auth_method_error"' in response.content.decode()
    client.refresh_from_db()
    assert client.token_endpoint_auth_method == "client_secret_post"


def test_type_and_client_id_cannot_be_changed(staff_client, native_app):
    page = staff_client.get(f"/dashboard/applications/{native_app.pk}/?tab=settings").content.decode()
    assert re.search(r'<select name="app_type"[^>]*disabled', page)
    assert re.search(r'<input[^>]*name="client_id"[^>]*disabled', page)

    client_id = native_app.client_id
    response = staff_client.post(
        f"/dashboard/applications/{native_app.pk}/settings/",
        {
            "name": "Renamed",
            "app_type": "m2m",
            "client_id": "evil",
            "client_type": "confidential",
            "client_secret": "known",
            "token_endpoint_auth_method": "client_secret_post",
            "redirect_uris": MOBILE_CALLBACK,
            "refresh_token_absolute_lifetime": "86400",
            "refresh_token_idle_lifetime": "3600",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    native_app.refresh_from_db()
    assert native_app.name == "Renamed"
    assert native_app.app_type == "native"
    assert native_app.client_id == client_id
    assert native_app.client_type == "public"
    assert native_app.client_secret == ""
    assert native_app.token_endpoint_auth_method == "none"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"refresh_token_idle_lifetime": "90000"}, "refresh_token_idle_lifetime", "cannot exceed"),
        (
            {"refresh_token_absolute_lifetime": "59"},
            "refresh_token_absolute_lifetime",
            "greater than or equal",
        ),
        ({"redirect_uris": "javascript:alert(1)"}, "redirect_uris", "not a callback URL"),
        ({"redirect_uris": ""}, "redirect_uris", "at least one callback"),
        ({"post_logout_redirect_uris": "http://localhost/bye"}, "post_logout_redirect_uris", "loopback IP"),
        ({"logo_uri": "not a url"}, "logo_uri", "Enter a valid URL."),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_settings_errors_are_inline(staff_client, native_app, changes, field, message):
    data = {
        "name": "Renamed",
        "redirect_uris": MOBILE_CALLBACK,
        "refresh_token_absolute_lifetime": "86400",
        "refresh_token_idle_lifetime": "3600",
        **changes,
    }
    response = staff_client.post(f"/dashboard/applications/{native_app.pk}/settings/", data)
    assert response.status_code == HTTPStatus.OK
    assert any(message in error for error in response.context["settings_form"].errors[field])
    content = _content(response)
    assert f'id="id_{field}_error"' in content
    assert "<h1>Timesheets Mobile</h1>" in content  # the stored name, not the rejected one
    native_app.refresh_from_db()
    assert native_app.name == "Timesheets Mobile"
    assert native_app.redirect_uris == MOBILE_CALLBACK


def test_credentials_tab_of_a_public_app(staff_client, native_app):
    response = staff_client.get(f"/dashboard/applications/{native_app.pk}/?tab=credentials")
    content = _content(response)
    assert native_app.client_id in content
    assert "None (public client)" in content
    assert "it has none" in content
    assert "Rotate secret" not in content


def test_secret_rotation_needs_confirmation(staff_client, web_app):
    client, old = web_app
    path = f"/dashboard/applications/{client.pk}/credentials/rotate/"

    response = staff_client.post(path, {})
    assert response.status_code == HTTPStatus.OK
    assert 'id="id_confirm_error"' in response.content.decode()
    assert "This field is required." in response.content.decode()
    assert 'id="client-secret"' not in response.content.decode()
    client.refresh_from_db()
    assert check_password(old, client.client_secret)

    response = staff_client.post(path, {"confirm": "on"}, follow=True)
    # Post/Redirect/Get: reloading the page that shows the secret does not rotate it again.
    assert response.redirect_chain == [(f"/dashboard/applications/{client.pk}/?tab=credentials", 302)]
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    content = _content(response)
    shown = re.search(r'<code class="secret" id="client-secret">([^<]+)</code>', content)
    assert shown is not None
    new = shown.group(1)
    assert "Copy it now: it will not be shown again." in content
    assert "Secret rotated." in content
    client.refresh_from_db()
    assert new != old
    assert client.client_secret != new
    assert check_password(new, client.client_secret)
    assert not check_password(old, client.client_secret)
    assert (
        new not in staff_client.get(f"/dashboard/applications/{client.pk}/?tab=credentials").content.decode()
    )


def test_secret_rotation_needs_post(staff_client, web_app):
    client, _ = web_app
    response = staff_client.get(f"/dashboard/applications/{client.pk}/credentials/rotate/")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_apis_tab_lists_every_api_with_its_scopes(staff_client, m2m_app, payroll_api, timesheets_api):
    client, _ = m2m_app
    services.client_grant_set(client=client, api=payroll_api, scopes=["run:payroll"])
    response = staff_client.get(f"/dashboard/applications/{client.pk}/?tab=apis")
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    for api in (payroll_api, timesheets_api):
        assert f'id="grant-{api.pk}"' in content
        assert f'hx-post="/dashboard/applications/{client.pk}/apis/{api.pk}/"' in content
    # The Management API is listed like any other: that is how a machine gets management rights.
    assert content.count('name="scopes"') == 2 + 4 + len(MANAGEMENT_SCOPES)
    assert f'id="grant-{Api.objects.get(system=True).pk}"' in content
    assert re.search(rf'name="authorized" id="id_grant_{payroll_api.pk}_authorized" checked', content)
    assert not re.search(rf'name="authorized" id="id_grant_{timesheets_api.pk}_authorized" checked', content)
    assert re.search(r'value="run:payroll"[^>]*checked', content)
    assert not re.search(r'value="read:payslips"[^>]*checked', content)


def test_user_apps_get_no_api_grants(staff_client, native_app, payroll_api):
    response = staff_client.get(f"/dashboard/applications/{native_app.pk}/?tab=apis")
    content = response.content.decode()
    assert "limited by the user's own permissions" in html.unescape(content)
    assert 'name="authorized"' not in content


def test_grant_with_htmx_returns_only_the_row(staff_client, m2m_app, payroll_api, timesheets_api):
    client, _ = m2m_app
    response = staff_client.post(
        f"/dashboard/applications/{client.pk}/apis/{timesheets_api.pk}/",
        {"authorized": "on", "scopes": ["read:timesheets", "approve:timesheets"]},
        **HTMX,
    )
    assert response.status_code == HTTPStatus.OK
    content = _content(response)
    assert "<html" not in content
    assert content.strip().startswith(f'<section class="card grant" id="grant-{timesheets_api.pk}">')
    assert f'id="grant-{payroll_api.pk}"' not in content
    assert "Authorized to call Timesheets API." in content
    assert "HX-Request" in response["Vary"]
    assert re.search(r'value="approve:timesheets"[^>]*checked', content)
    assert not re.search(r'value="create:timesheets"[^>]*checked', content)
    assert selectors.client_grants(client=client) == {
        timesheets_api.pk: {"read:timesheets", "approve:timesheets"}
    }

    # Unticking "authorized" removes the grant, whatever scopes are still ticked.
    response = staff_client.post(
        f"/dashboard/applications/{client.pk}/apis/{timesheets_api.pk}/",
        {"scopes": ["read:timesheets"]},
        **HTMX,
    )
    assert "No longer authorized to call Timesheets API." in _content(response)
    assert selectors.client_grants(client=client) == {}


def test_grant_without_javascript_redirects_back_to_the_tab(staff_client, m2m_app, payroll_api):
    client, _ = m2m_app
    response = staff_client.post(
        f"/dashboard/applications/{client.pk}/apis/{payroll_api.pk}/", {"authorized": "on"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/applications/{client.pk}/?tab=apis#grant-{payroll_api.pk}"
    assert selectors.client_grants(client=client) == {payroll_api.pk: set()}
    assert "Authorized to call Payroll API." in staff_client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("headers", [HTMX, {}])
def test_grant_refuses_unknown_scopes(staff_client, m2m_app, payroll_api, timesheets_api, headers):
    client, _ = m2m_app
    services.client_grant_set(client=client, api=payroll_api, scopes=["read:payslips"])
    # A scope of another API is as unknown here as a made-up one.
    for scope in ("read:timesheets", "admin:everything"):
        response = staff_client.post(
            f"/dashboard/applications/{client.pk}/apis/{payroll_api.pk}/",
            {"authorized": "on", "scopes": ["run:payroll", scope]},
            **headers,
        )
        assert response.status_code == HTTPStatus.OK
        content = _content(response)
        # htmx gets the row alone; without JavaScript, the page with the row's errors.
        assert ("<html" in content) == (not headers)
        assert f'id="id_grant_{payroll_api.pk}_scopes_error"' in content
        assert f"{scope} is not one of the available choices." in content
    assert selectors.client_grants(client=client) == {payroll_api.pk: {"read:payslips"}}


def test_grant_service_errors_are_shown_on_the_row(staff_client, m2m_app, payroll_api, monkeypatch):
    client, _ = m2m_app

    def refuse(**kwargs):
        raise ValidationError("Payroll API has no scope run:payroll.")

    monkeypatch.setattr(services, "client_grant_set", refuse)
    response = staff_client.post(
        f"/dashboard/applications/{client.pk}/apis/{payroll_api.pk}/",
        {"authorized": "on", "scopes": ["run:payroll"]},
        **HTMX,
    )
    assert response.status_code == HTTPStatus.OK
    assert 'class="form-error" role="alert"' in response.content.decode()
    assert "Payroll API has no scope run:payroll." in response.content.decode()


# --- Quickstart -------------------------------------------------------------------------------


def _snippets(response) -> list[str]:
    return [
        html.unescape(code)
        for code in re.findall(r"<pre[^>]*><code>(.*?)</code></pre>", response.content.decode(), re.DOTALL)
    ]


def _run_curl(command: str, **env: str):
    """Send the request a quickstart curl command describes, through the test client."""
    # Longest first: $CODE is a prefix of $CODE_VERIFIER.
    for name in sorted(env, key=len, reverse=True):
        command = command.replace(f"${name}", env[name])
    words = shlex.split(command.replace("\\\n", " "))  # a backslash-newline continues the line
    assert words[:3] == ["curl", "--request", "POST"]
    url, options = words[3], words[4:]
    assert url == f"{ISSUER}/oauth/token"
    data: dict[str, str] = {}
    headers: dict[str, Any] = {}
    for option, value in zip(options[::2], options[1::2], strict=True):
        name, _, field = value.partition("=")
        if option == "--user":
            headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(value.encode()).decode()
        elif option in {"--data", "--data-urlencode"}:
            data[name] = field
        else:
            raise AssertionError(f"unexpected curl option {option}")
    return HttpClient().post(urlsplit(url).path, data, **headers)


def _sign_in_with_the_snippet(snippet: str, user_client: HttpClient) -> tuple[dict, dict]:
    """Run the Python snippet, then let a user consent at the URL it built."""
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 - our own page's snippet, in a test
    url = namespace["authorize_url"]
    assert url.startswith(f"{ISSUER}/authorize?response_type=code&client_id=")
    response = user_client.get(url.removeprefix(ISSUER))
    if response.status_code == HTTPStatus.OK:  # the consent screen, unless consent was given before
        response = user_client.post("/authorize", {**consent_fields(response), "allow": "Authorize"})
    assert response.status_code == HTTPStatus.FOUND, response.content
    params = redirect_params(response)
    assert params["state"] == namespace["state"]
    return namespace, params


def test_native_quickstart_signs_a_user_in(staff_client, user_client, native_app, timesheets_api):
    response = staff_client.get(f"/dashboard/applications/{native_app.pk}/?tab=quickstart")
    assert response.status_code == HTTPStatus.OK
    python, example, curl = _snippets(response)
    assert f'"client_id": "{native_app.client_id}"' in python
    assert f'"audience": "{timesheets_api.identifier}"' in python
    scope = "openid%20profile%20offline_access%20approve:timesheets%20create:timesheets"
    assert example.startswith(
        f"{ISSUER}/authorize?response_type=code&client_id={native_app.client_id}"
        f"&redirect_uri={MOBILE_CALLBACK}&scope={scope}"
    )
    assert f"&audience={timesheets_api.identifier}&code_challenge=" in example
    assert "&code_challenge_method=S256&state=" in example
    assert "CLIENT_SECRET" not in curl

    namespace, params = _sign_in_with_the_snippet(python, user_client)
    assert namespace["authorize_url"].split("&code_challenge=")[0] == example.split("&code_challenge=")[0]
    token = _run_curl(curl, CODE=params["code"], CODE_VERIFIER=namespace["code_verifier"])
    assert token.status_code == HTTPStatus.OK, token.content
    body = token.json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == native_app.client_id
    assert timesheets_api.identifier in claims["aud"]
    assert "read:timesheets" in claims["scope"].split()
    assert body["refresh_token"] and body["id_token"]


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_web_quickstart_exchanges_the_code_with_the_secret(
    staff_client, user_client, web_app, timesheets_api, auth_method
):
    client, secret = web_app
    services.client_update(client=client, token_endpoint_auth_method=auth_method)
    response = staff_client.get(f"/dashboard/applications/{client.pk}/?tab=quickstart")
    python, _, curl = _snippets(response)
    assert secret not in response.content.decode()
    assert "$CLIENT_SECRET" in curl
    assert f'"redirect_uri": "{WEB_CALLBACK}"' in python

    namespace, params = _sign_in_with_the_snippet(python, user_client)
    verifier = namespace["code_verifier"]
    assert _run_curl(
        curl, CODE=params["code"], CODE_VERIFIER=verifier, CLIENT_SECRET="wrong"
    ).status_code == (HTTPStatus.UNAUTHORIZED)
    namespace, params = _sign_in_with_the_snippet(python, user_client)
    token = _run_curl(
        curl, CODE=params["code"], CODE_VERIFIER=namespace["code_verifier"], CLIENT_SECRET=secret
    )
    assert token.status_code == HTTPStatus.OK, token.content
    assert (
        jwt.decode(token.json()["access_token"], options={"verify_signature": False})["azp"]
        == client.client_id
    )


def test_quickstart_api_can_be_picked_with_htmx(staff_client, native_app, timesheets_api, payroll_api):
    page = staff_client.get(f"/dashboard/applications/{native_app.pk}/?tab=quickstart")
    content = page.content.decode()
    assert 'hx-trigger="change"' in content and 'name="api"' in content
    # Sorted by name, the first API is the default.
    assert "https://payroll.abcinc.example/" in _snippets(page)[0]

    response = staff_client.get(
        f"/dashboard/applications/{native_app.pk}/?tab=quickstart&api={timesheets_api.pk}", **HTMX
    )
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "<html" not in content
    assert 'id="quickstart"' not in content  # the swap target stays on the page
    assert 'name="api"' not in content
    assert timesheets_api.identifier in _snippets(response)[0]
    assert "payroll" not in _snippets(response)[0]
    assert "HX-Request" in response["Vary"]

    # Without JavaScript, the same URL is the whole page.
    full = staff_client.get(
        f"/dashboard/applications/{native_app.pk}/?tab=quickstart&api={timesheets_api.pk}"
    )
    assert "<html" in full.content.decode()
    assert f'<option value="{timesheets_api.pk}" selected>' in full.content.decode()


def test_m2m_quickstart_gets_a_token(staff_client, m2m_app, timesheets_api, payroll_api):
    client, secret = m2m_app
    response = staff_client.get(f"/dashboard/applications/{client.pk}/?tab=quickstart")
    assert "not authorized to call any API yet" in response.content.decode()
    assert _snippets(response) == []

    services.client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    response = staff_client.get(f"/dashboard/applications/{client.pk}/?tab=quickstart")
    assert secret not in response.content.decode()
    (curl,) = _snippets(response)
    assert f'--user {client.client_id}:"$CLIENT_SECRET"' in curl
    assert "grant_type=client_credentials" in curl
    assert f"audience={timesheets_api.identifier}" in curl
    # Only granted APIs are offered.
    assert payroll_api.identifier not in response.content.decode()

    token = _run_curl(curl, CLIENT_SECRET=secret)
    assert token.status_code == HTTPStatus.OK, token.content
    claims = jwt.decode(token.json()["access_token"], options={"verify_signature": False})
    assert claims["aud"] == timesheets_api.identifier
    assert claims["scope"] == "read:timesheets"
    assert claims["sub"] == f"{client.client_id}@clients"

    services.client_update(client=client, token_endpoint_auth_method="client_secret_post")
    (curl,) = _snippets(staff_client.get(f"/dashboard/applications/{client.pk}/?tab=quickstart"))
    assert '--data-urlencode "client_secret=$CLIENT_SECRET"' in curl
    assert _run_curl(curl, CLIENT_SECRET=secret).status_code == HTTPStatus.OK


def test_m2m_quickstart_calls_the_management_api_with_its_token(staff_client, m2m_app, user):
    client, secret = m2m_app
    management = Api.objects.get(system=True)
    services.client_grant_set(client=client, api=management, scopes=["read:users"])

    response = staff_client.get(f"/dashboard/applications/{client.pk}/?tab=quickstart&api={management.pk}")
    token_request, call = _snippets(response)
    token = _run_curl(token_request, CLIENT_SECRET=secret).json()["access_token"]

    words = shlex.split(call.replace("\\\n", " ").replace("$ACCESS_TOKEN", token))
    assert words[:2] == ["curl", f"{ISSUER}/api/v2/users?page_size=10"]
    assert words[2] == "--header"
    answer = HttpClient().get("/api/v2/users?page_size=10", HTTP_AUTHORIZATION=words[3].split(": ", 1)[1])
    assert answer.status_code == HTTPStatus.OK, answer.content
    assert user.email in [person["email"] for person in answer.json()["results"]]


# --- Delete -----------------------------------------------------------------------------------


def test_delete_flow(staff_client, m2m_app, payroll_api):
    client, _ = m2m_app
    services.client_grant_set(client=client, api=payroll_api, scopes=["run:payroll"])
    page = staff_client.get(f"/dashboard/applications/{client.pk}/delete/")
    assert page.status_code == HTTPStatus.OK
    content = page.content.decode()
    assert client.client_id in content
    assert "stops working" in content
    assert Client.objects.filter(pk=client.pk).exists()  # GET changes nothing

    response = staff_client.post(f"/dashboard/applications/{client.pk}/delete/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/dashboard/applications/"
    assert not Client.objects.filter(pk=client.pk).exists()
    assert not ClientGrant.objects.exists()
    listing = staff_client.get("/dashboard/applications/")
    assert "Application “Payroll Batch” deleted." in listing.content.decode()
    assert staff_client.get(f"/dashboard/applications/{client.pk}/").status_code == HTTPStatus.NOT_FOUND
