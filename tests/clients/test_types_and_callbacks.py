"""Each application type gets only its grants; callbacks are registered per type's rules."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client as HttpClient

from clients.models import Client
from clients.services import client_create, client_secret_rotate, client_update
from tests.oauth import ISSUER, MOBILE_CALLBACK, Pkce, authorize_url, basic_auth, consent, redirect_params

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("app_type", "public", "grant", "method"),
    [
        (Client.AppType.NATIVE, True, Client.GRANT_AUTHORIZATION_CODE, "none"),
        (Client.AppType.SPA, True, Client.GRANT_AUTHORIZATION_CODE, "none"),
        (Client.AppType.REGULAR_WEB, False, Client.GRANT_AUTHORIZATION_CODE, "client_secret_basic"),
        (Client.AppType.M2M, False, Client.GRANT_CLIENT_CREDENTIALS, "client_secret_basic"),
    ],
)
def test_the_type_decides_client_type_grant_and_secret(app_type, public, grant, method):
    callbacks = [] if app_type == Client.AppType.M2M else ["https://app.abcinc.example/callback"]
    client, secret = client_create(app_type=app_type, name="App", redirect_uris=callbacks)
    assert (client.client_type == Client.CLIENT_PUBLIC) is public
    assert client.authorization_grant_type == grant
    assert client.token_endpoint_auth_method == method
    if public:
        assert secret is None
        assert client.client_secret == ""
    else:
        # Stored hashed, shown once.
        assert secret and client.client_secret != secret
        assert check_password(secret, Client.objects.get(pk=client.pk).client_secret)


def test_the_database_refuses_an_inconsistent_type(public_client):
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.filter(pk=public_client.pk).update(client_type=Client.CLIENT_CONFIDENTIAL)


def test_a_public_type_cannot_use_a_secret_method():
    with pytest.raises(ValidationError) as error:
        client_create(
            app_type=Client.AppType.NATIVE,
            name="App",
            redirect_uris=[MOBILE_CALLBACK],
            token_endpoint_auth_method=Client.AuthMethod.POST,
        )
    assert "token_endpoint_auth_method" in error.value.message_dict


@pytest.mark.parametrize(
    "callback",
    [
        "com.abcinc.timesheets://callback",
        "com.abcinc.timesheets:/callback",
        "http://127.0.0.1/callback",
        "http://[::1]/callback",
        "https://timesheets.abcinc.example/callback",
    ],
)
def test_native_callbacks_that_are_accepted(callback):
    client, _ = client_create(app_type=Client.AppType.NATIVE, name="App", redirect_uris=[callback])
    assert client.redirect_uris == callback


@pytest.mark.parametrize(
    "callback",
    [
        "http://localhost/callback",
        "http://127.0.0.1:8080/callback",
        "http://127.000.000.001/callback",
        "http://127.0.0.1:80@evil.example/callback",
        "http://evil.example/callback",
        "myapp://callback",
        "javascript:alert(1)",
        "data:text/html,hi",
        "com.abcinc.timesheets://callback#frag",
        "https://*.abcinc.example/callback",
    ],
)
def test_native_callbacks_that_are_refused(callback):
    with pytest.raises(ValidationError) as error:
        client_create(app_type=Client.AppType.NATIVE, name="App", redirect_uris=[callback])
    assert "redirect_uris" in error.value.message_dict
    assert not Client.objects.exists()


@pytest.mark.parametrize("app_type", [Client.AppType.SPA, Client.AppType.REGULAR_WEB])
def test_web_callbacks_need_https_except_localhost_in_development(settings, app_type):
    with pytest.raises(ValidationError):
        client_create(app_type=app_type, name="App", redirect_uris=["http://app.abcinc.example/cb"])
    with pytest.raises(ValidationError):
        client_create(app_type=app_type, name="App", redirect_uris=["http://localhost:3000/cb"])
    with pytest.raises(ValidationError):
        client_create(app_type=app_type, name="App", redirect_uris=["com.abcinc.timesheets://cb"])
    settings.DEBUG = True
    client, _ = client_create(app_type=app_type, name="App", redirect_uris=["http://localhost:3000/cb"])
    assert client.redirect_uris == "http://localhost:3000/cb"


def test_machine_clients_have_no_callbacks():
    with pytest.raises(ValidationError):
        client_create(app_type=Client.AppType.M2M, name="Batch", redirect_uris=["https://x.example/cb"])


def test_origins_are_validated():
    with pytest.raises(ValidationError) as error:
        client_create(
            app_type=Client.AppType.SPA,
            name="SPA",
            redirect_uris=["https://spa.abcinc.example/cb"],
            allowed_origins=["https://spa.abcinc.example/path"],
        )
    assert "allowed_origins" in error.value.message_dict


def test_type_and_client_id_cannot_be_changed(public_client):
    with pytest.raises(TypeError):
        client_update(client=public_client, app_type=Client.AppType.M2M)
    with pytest.raises(TypeError):
        client_update(client=public_client, client_id="other")


# --- Grants at the endpoints ------------------------------------------------------------------


def test_a_native_app_cannot_use_client_credentials(public_client, timesheets_api):
    response = HttpClient().post(
        "/oauth/token",
        {
            "grant_type": "client_credentials",
            "client_id": public_client.client_id,
            "audience": timesheets_api.identifier,
        },
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"


def test_a_regular_web_app_cannot_use_client_credentials(timesheets_api):
    client, secret = client_create(
        app_type=Client.AppType.REGULAR_WEB, name="Web", redirect_uris=["https://web.abcinc.example/cb"]
    )
    assert secret is not None
    response = HttpClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials", "audience": timesheets_api.identifier},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert response.status_code in {HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED}
    assert response.json()["error"] == "unauthorized_client"


def test_a_machine_client_cannot_start_an_authorization_code_flow(confidential_client, user_client):
    client, _ = confidential_client
    response = user_client.get(
        authorize_url(client.client_id, Pkce.new(), redirect_uri="https://x.example/cb")
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response


def test_a_regular_web_app_authenticates_at_the_token_endpoint(user_client, timesheets_api):
    client, secret = client_create(
        app_type=Client.AppType.REGULAR_WEB, name="Web", redirect_uris=["https://web.abcinc.example/cb"]
    )
    assert secret is not None
    pkce = Pkce.new()
    url = authorize_url(client.client_id, pkce, redirect_uri="https://web.abcinc.example/cb")
    code = redirect_params(consent(user_client, url))["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://web.abcinc.example/cb",
        "code_verifier": pkce.verifier,
    }
    without_secret = HttpClient().post("/oauth/token", {**data, "client_id": client.client_id})
    assert without_secret.status_code == HTTPStatus.UNAUTHORIZED
    response = HttpClient().post(
        "/oauth/token", data, HTTP_AUTHORIZATION=basic_auth(client.client_id, secret)
    )
    assert response.status_code == HTTPStatus.OK, response.content


def test_only_the_registered_authentication_method_is_accepted(confidential_client, timesheets_api):
    client, secret = confidential_client  # registered for client_secret_basic
    response = HttpClient().post(
        "/oauth/token",
        {
            "grant_type": "client_credentials",
            "audience": timesheets_api.identifier,
            "client_id": client.client_id,
            "client_secret": secret,
        },
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"


def test_a_rotated_secret_replaces_the_old_one(confidential_client, timesheets_api):
    client, old = confidential_client
    new = client_secret_rotate(client=client)
    assert new != old
    stored = Client.objects.get(pk=client.pk).client_secret
    assert check_password(new, stored)
    assert not check_password(old, stored)


# --- First-party applications and consent -----------------------------------------------------


def test_first_party_apps_skip_consent(user_client, timesheets_api):
    client, _ = client_create(
        app_type=Client.AppType.NATIVE, name="Ours", redirect_uris=[MOBILE_CALLBACK], first_party=True
    )
    response = user_client.get(
        authorize_url(client.client_id, Pkce.new(), audience=timesheets_api.identifier)
    )
    assert response.status_code == HTTPStatus.FOUND
    params = redirect_params(response)
    assert params["code"]
    assert params["iss"] == ISSUER


def test_an_api_can_insist_on_consent_even_for_first_party_apps(user_client, timesheets_api):
    timesheets_api.allow_skip_consent = False
    timesheets_api.save()
    client, _ = client_create(
        app_type=Client.AppType.NATIVE, name="Ours", redirect_uris=[MOBILE_CALLBACK], first_party=True
    )
    response = user_client.get(
        authorize_url(client.client_id, Pkce.new(), audience=timesheets_api.identifier)
    )
    assert response.status_code == HTTPStatus.OK
    assert b"authorizationForm" in response.content
    silent = user_client.get(
        authorize_url(client.client_id, Pkce.new(), audience=timesheets_api.identifier, prompt="none")
    )
    assert redirect_params(silent)["error"] == "consent_required"


def test_third_party_apps_always_ask(public_client, user_client, timesheets_api):
    url = authorize_url(
        public_client.client_id,
        Pkce.new(),
        audience=timesheets_api.identifier,
        scope="openid read:timesheets",
    )
    response = user_client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert b"Read your timesheets" in response.content


# --- Ports (issue 13, point 8) ----------------------------------------------------------------

BAD_PORTS = [":0", ":65536", ":99999", ":00080", ":", ":-1", ":8o80"]


@pytest.mark.parametrize("port", BAD_PORTS)
def test_a_loopback_callback_needs_a_real_port(public_client, user_client, port):
    """RFC 8252 §7.3 lets the app pick any port at run time: any port there is, 1 to 65535."""
    callback = f"http://127.0.0.1{port}/callback"
    response = user_client.get(authorize_url(public_client.client_id, Pkce.new(), redirect_uri=callback))
    # Never sent anywhere: the person sees the error page, the code stays here.
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response
    assert "redirect URI" in response.content.decode()  # "Invalid …" or "Mismatching …"


@pytest.mark.parametrize("port", ["", ":1", ":8080", ":65535"])
def test_the_loopback_port_range_is_1_to_65535(public_client, port):
    assert public_client.redirect_uri_allowed(f"http://127.0.0.1{port}/callback")


def test_a_loopback_logout_url_needs_a_real_port(public_client):
    client_update(client=public_client, post_logout_redirect_uris=["http://127.0.0.1/bye"])
    assert public_client.post_logout_redirect_uri_allowed("http://127.0.0.1:51234/bye")
    for port in BAD_PORTS:
        assert not public_client.post_logout_redirect_uri_allowed(f"http://127.0.0.1{port}/bye")


@pytest.mark.parametrize(
    ("app_type", "callback"),
    [
        (Client.AppType.REGULAR_WEB, "https://app.abcinc.example:0/callback"),
        (Client.AppType.REGULAR_WEB, "https://app.abcinc.example:99999/callback"),
        (Client.AppType.SPA, "https://app.abcinc.example:/callback"),
        (Client.AppType.NATIVE, "https://app.abcinc.example:65536/callback"),
    ],
)
def test_a_callback_with_an_impossible_port_is_not_registered(app_type, callback):
    with pytest.raises(ValidationError) as error:
        client_create(app_type=app_type, name="App", redirect_uris=[callback])
    assert "port" in " ".join(error.value.message_dict["redirect_uris"])


def test_a_development_callback_with_an_impossible_port_is_not_registered(settings):
    settings.DEBUG = True
    for callback in ("http://localhost:0/cb", "http://localhost:99999/cb"):
        with pytest.raises(ValidationError):
            client_create(app_type=Client.AppType.SPA, name="App", redirect_uris=[callback])
    client, _ = client_create(
        app_type=Client.AppType.SPA, name="App", redirect_uris=["http://localhost:3000/cb"]
    )
    assert client.redirect_uris == "http://localhost:3000/cb"
