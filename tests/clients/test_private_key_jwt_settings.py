"""private_key_jwt in an application's settings: the dashboard's form (method, JWKS, JWKS URL,
inline errors). The Management API's side: tests/management/test_clients_private_key_jwt.py."""

from __future__ import annotations

import json
import re
from http import HTTPStatus

import pytest

from clients import services
from clients.models import Client
from tests.security.pkjwt import KeyPair

pytestmark = pytest.mark.django_db

WEB_CALLBACK = "https://expenses.abcinc.example/callback"


@pytest.fixture
def m2m_app() -> Client:
    client, _ = services.client_create(app_type=Client.AppType.M2M, name="Payroll sync")
    return client


def _post(staff_client, client: Client, **changes: str):
    data = {"name": client.name, "token_endpoint_auth_method": "private_key_jwt", **changes}
    return staff_client.post(f"/dashboard/applications/{client.pk}/settings/", data)


def test_confidential_apps_are_offered_the_method_and_the_key_fields(staff_client, m2m_app):
    page = staff_client.get(f"/dashboard/applications/{m2m_app.pk}/?tab=settings")
    fields = page.context["settings_form"].fields
    assert {"jwks", "jwks_uri", "token_endpoint_auth_method"} <= set(fields)
    content = page.content.decode()
    select = re.search(r'<select name="token_endpoint_auth_method".*?</select>', content, re.DOTALL)
    assert select is not None
    assert re.findall(r'value="([^"]*)"', select.group(0)) == [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ]
    assert "client_secret_jwt" not in content
    native, _ = services.client_create(
        app_type=Client.AppType.NATIVE, name="Mobile", redirect_uris=["com.abcinc.app://cb"]
    )
    native_fields = staff_client.get(f"/dashboard/applications/{native.pk}/").context["settings_form"].fields
    assert not {"jwks", "jwks_uri", "token_endpoint_auth_method"} & set(native_fields)


def test_a_pasted_jwks_is_saved(staff_client, m2m_app):
    key = KeyPair.new("ES256")
    response = _post(staff_client, m2m_app, jwks=json.dumps(key.jwks()))
    assert response.status_code == HTTPStatus.FOUND, (
        response.context and response.context["settings_form"].errors
    )
    m2m_app.refresh_from_db()
    assert m2m_app.token_endpoint_auth_method == "private_key_jwt"
    assert m2m_app.jwks == key.jwks()
    # Shown back as JSON in the form.
    page = staff_client.get(f"/dashboard/applications/{m2m_app.pk}/?tab=settings").content.decode()
    assert key.kid in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({}, "jwks", "public keys"),
        ({"jwks": "{not json"}, "jwks", "valid JSON"),
        ({"jwks": json.dumps({"keys": [KeyPair.new().private_jwk()]})}, "jwks", "private key"),
        ({"jwks": json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})}, "jwks", "symmetric"),
        ({"jwks_uri": "http://keys.abcinc.example/jwks.json"}, "jwks_uri", "https"),
        ({"jwks_uri": "https://192.168.1.10/jwks.json"}, "jwks_uri", "public address"),
    ],
)
def test_key_errors_are_inline(staff_client, m2m_app, changes, field, message):
    response = _post(staff_client, m2m_app, **changes)
    assert response.status_code == HTTPStatus.OK
    errors = response.context["settings_form"].errors[field]
    assert any(message in error for error in errors), errors
    assert f'id="id_{field}_error"' in response.content.decode()
    m2m_app.refresh_from_db()
    assert m2m_app.token_endpoint_auth_method == "client_secret_basic"


def test_credentials_and_quickstart_of_a_web_app_speak_of_keys_not_the_secret(staff_client):
    key = KeyPair.new()
    client, _ = services.client_create(
        app_type=Client.AppType.REGULAR_WEB,
        name="Expenses",
        redirect_uris=[WEB_CALLBACK],
        token_endpoint_auth_method="private_key_jwt",
        jwks=key.jwks(),
    )
    credentials = staff_client.get(f"/dashboard/applications/{client.pk}/?tab=credentials").content.decode()
    assert "1 registered in the JWKS" in credentials
    assert "the secret is not accepted" in credentials
    quickstart = staff_client.get(f"/dashboard/applications/{client.pk}/?tab=quickstart").content.decode()
    assert "client_assertion=$CLIENT_ASSERTION" in quickstart
    assert "CLIENT_SECRET" not in quickstart
