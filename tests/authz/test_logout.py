"""RP-initiated logout: an application signs the person out and gets them back only at a
registered logout URL; every request that cannot be trusted is refused without a redirect."""

from __future__ import annotations

import time
import uuid
from http import HTTPStatus
from io import StringIO

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse
from oauth2_provider.models import get_refresh_token_model

from apis.keys import private_key, signing_key_current
from clients.forms import ClientSettingsForm
from clients.models import Client
from clients.services import client_create, client_update
from tests.oauth import ISSUER, Pkce, exchange, get_code

pytestmark = pytest.mark.django_db

RefreshToken = get_refresh_token_model()
LOGOUT_URL = "com.abcinc.timesheets://logout"


@pytest.fixture
def app(public_client) -> Client:
    return client_update(client=public_client, post_logout_redirect_uris=[LOGOUT_URL])


def _tokens(http: HttpClient, client: Client, **params: str) -> dict:
    pkce = Pkce.new()
    code = get_code(http, client.client_id, pkce, scope="openid offline_access", **params)
    response = exchange(http, client.client_id, code, pkce.verifier)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _signed_in(http: HttpClient) -> bool:
    return "_auth_user_id" in http.session


def _hint(claims: dict, *, key=None, kid: str | None = None) -> str:
    """An ID token signed with our current key (or ``key``, pretending to be ``kid``)."""
    current = signing_key_current()
    now = int(time.time())
    body = {"iss": ISSUER, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4()), **claims}
    headers = {"kid": kid or current.kid}
    return jwt.encode(body, key or private_key(current), algorithm="RS256", headers=headers)


def test_discovery_names_the_end_session_endpoint():
    discovery = HttpClient().get("/.well-known/openid-configuration").json()
    assert discovery["end_session_endpoint"] == f"{ISSUER}/oauth/logout"


def test_sign_out_with_hint_returns_to_the_registered_url_with_state(app, user_client):
    hint = _tokens(user_client, app)["id_token"]
    response = user_client.get(
        "/oauth/logout",
        {"id_token_hint": hint, "post_logout_redirect_uri": LOGOUT_URL, "state": "s-123"},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{LOGOUT_URL}?state=s-123"
    assert not _signed_in(user_client)


def test_sign_out_by_post(app, user_client):
    hint = _tokens(user_client, app)["id_token"]
    response = user_client.post(
        "/oauth/logout",
        {"id_token_hint": hint, "client_id": app.client_id, "post_logout_redirect_uri": LOGOUT_URL},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == LOGOUT_URL
    assert not _signed_in(user_client)


def test_an_expired_hint_is_accepted(app, user, user_client):
    hint = _hint({"sub": str(user.sub), "aud": app.client_id, "exp": int(time.time()) - 3600})
    response = user_client.get(
        "/oauth/logout", {"id_token_hint": hint, "post_logout_redirect_uri": LOGOUT_URL}
    )
    assert response["Location"] == LOGOUT_URL
    assert not _signed_in(user_client)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda claims: _hint(claims, key=rsa.generate_private_key(65537, 2048)), id="other-key"),
        pytest.param(lambda claims: _hint({**claims, "iss": "https://evil.example"}), id="other-issuer"),
        pytest.param(lambda claims: _hint(claims, kid="unknown"), id="unknown-kid"),
        pytest.param(lambda claims: _hint(claims)[:-4] + "AAAA", id="tampered"),
        pytest.param(lambda claims: "not-a-jwt", id="garbage"),
    ],
)
def test_a_hint_we_did_not_sign_is_refused_without_redirect(app, user, user_client, forge):
    hint = forge({"sub": str(user.sub), "aud": app.client_id})
    response = user_client.get(
        "/oauth/logout", {"id_token_hint": hint, "post_logout_redirect_uri": LOGOUT_URL}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "not issued by this server" in response.content.decode()
    assert _signed_in(user_client)


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "logout+jwt"])
def test_our_access_and_logout_tokens_are_not_id_token_hints(app, user, user_client, typ):
    current = signing_key_current()
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": str(user.sub), "aud": app.client_id, "iat": now, "exp": now + 60}
    token = jwt.encode(
        claims, private_key(current), algorithm="RS256", headers={"kid": current.kid, "typ": typ}
    )
    response = user_client.get(
        "/oauth/logout", {"id_token_hint": token, "post_logout_redirect_uri": LOGOUT_URL}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert _signed_in(user_client)


def test_a_hint_for_another_client_is_refused(app, user, user_client):
    other, _ = client_create(
        app_type=Client.AppType.NATIVE, name="Other", client_id="other-app", redirect_uris=[LOGOUT_URL]
    )
    hint = _hint({"sub": str(user.sub), "aud": other.client_id})
    response = user_client.get(
        "/oauth/logout",
        {"id_token_hint": hint, "client_id": app.client_id, "post_logout_redirect_uri": LOGOUT_URL},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "another application" in response.content.decode()
    assert _signed_in(user_client)


def test_an_unknown_client_is_refused(user_client):
    response = user_client.get(
        "/oauth/logout", {"client_id": "nobody", "post_logout_redirect_uri": LOGOUT_URL}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert _signed_in(user_client)


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example/",
        f"{LOGOUT_URL}/more",
        f"{LOGOUT_URL}?next=https://evil.example",
        "com.abcinc.timesheets://LOGOUT",
        "com.abcinc.timesheets://callback",  # a callback, not a logout URL
    ],
)
def test_an_unregistered_redirect_signs_out_to_our_page(app, user, user_client, uri):
    hint = _hint({"sub": str(user.sub), "aud": app.client_id})
    response = user_client.get(
        "/oauth/logout", {"id_token_hint": hint, "post_logout_redirect_uri": uri, "state": "s"}
    )
    assert response.status_code == HTTPStatus.OK
    assert "Location" not in response
    assert "You are signed out" in response.content.decode()
    assert not _signed_in(user_client)


def test_without_a_hint_the_person_confirms(app, user_client):
    params = {"client_id": app.client_id, "post_logout_redirect_uri": LOGOUT_URL, "state": "s-9"}
    page = user_client.get("/oauth/logout", params)
    assert page.status_code == HTTPStatus.OK
    assert "Sign out of ABC Inc.?" in page.content.decode()
    assert _signed_in(user_client)

    response = user_client.post("/oauth/logout", {**params, "confirm": "yes"})
    assert response["Location"] == f"{LOGOUT_URL}?state=s-9"
    assert not _signed_in(user_client)


def test_a_hint_for_another_person_asks_first(app, user_client, staff_user):
    hint = _hint({"sub": str(staff_user.sub), "aud": app.client_id})
    page = user_client.get("/oauth/logout", {"id_token_hint": hint, "post_logout_redirect_uri": LOGOUT_URL})
    assert page.status_code == HTTPStatus.OK
    assert "Sign out of ABC Inc.?" in page.content.decode()
    assert _signed_in(user_client)


def test_staying_signed_in(app, user_client):
    response = user_client.post("/oauth/logout", {"client_id": app.client_id, "confirm": "no"})
    assert response.status_code == HTTPStatus.OK
    assert "still signed in" in response.content.decode()
    assert _signed_in(user_client)


def test_the_confirmation_cannot_come_from_another_site(app, user):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(user)
    response = http.post(
        "/oauth/logout",
        {"client_id": app.client_id, "post_logout_redirect_uri": LOGOUT_URL, "confirm": "yes"},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert _signed_in(http)


def test_the_confirmation_form_posts_with_its_csrf_token(app, user):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(user)
    page = http.get("/oauth/logout", {"client_id": app.client_id})
    token = page.context["csrf_token"]
    response = http.post(
        "/oauth/logout", {"client_id": app.client_id, "confirm": "yes", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == HTTPStatus.OK
    assert not _signed_in(http)


def test_signed_out_already_no_confirmation(app, user):
    hint = _hint({"sub": str(user.sub), "aud": app.client_id})
    response = HttpClient().get(
        "/oauth/logout", {"id_token_hint": hint, "post_logout_redirect_uri": LOGOUT_URL}
    )
    assert response["Location"] == LOGOUT_URL


def _live_refresh_tokens(client: Client) -> int:
    return RefreshToken.objects.filter(application=client, revoked__isnull=True).count()


@pytest.mark.parametrize("revokes", [True, False])
def test_refresh_tokens_revoked_only_when_the_application_asks(app, user_client, timesheets_api, revokes):
    # Set directly until the dashboard's settings service lists the field.
    app.logout_revokes_refresh_tokens = revokes
    app.save(update_fields=["logout_revokes_refresh_tokens"])
    tokens = _tokens(user_client, app, audience=timesheets_api.identifier)
    assert _live_refresh_tokens(app) == 1
    user_client.get(
        "/oauth/logout", {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGOUT_URL}
    )
    assert _live_refresh_tokens(app) == (0 if revokes else 1)
    refreshed = HttpClient().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": app.client_id},
    )
    assert refreshed.status_code == (HTTPStatus.BAD_REQUEST if revokes else HTTPStatus.OK)


def test_the_demo_mobile_app_signs_out_to_its_logout_url():
    call_command("seed_demo", "--password", "Demo-password-2026", stdout=StringIO())
    mobile = Client.objects.get(client_id="timesheets-mobile")
    assert mobile.post_logout_redirect_uris.split() == [LOGOUT_URL]
    response = HttpClient().get(
        "/oauth/logout", {"client_id": mobile.client_id, "post_logout_redirect_uri": LOGOUT_URL, "state": "x"}
    )
    assert response["Location"] == f"{LOGOUT_URL}?state=x"


def test_the_settings_form_saves_the_logout_options(app, staff_client):
    url = reverse("clients:update", args=[app.pk])
    form = ClientSettingsForm(app)
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data |= {"redirect_uris": "\n".join(app.redirect_uris.split()), "post_logout_redirect_uris": LOGOUT_URL}
    refused = staff_client.post(url, {**data, "backchannel_logout_uri": "http://app.abcinc.example/bcl"})
    assert "must use https" in refused.content.decode()
    app.refresh_from_db()
    assert app.backchannel_logout_uri == ""

    staff_client.post(
        url,
        {
            **data,
            "backchannel_logout_uri": "https://app.abcinc.example/bcl",
            "backchannel_logout_session_required": "on",
            "logout_revokes_refresh_tokens": "on",
        },
    )
    app.refresh_from_db()
    assert app.backchannel_logout_uri == "https://app.abcinc.example/bcl"
    assert app.backchannel_logout_session_required and app.logout_revokes_refresh_tokens


def test_machine_clients_have_no_logout_options(confidential_client):
    form = ClientSettingsForm(confidential_client[0])
    assert not {"logout_revokes_refresh_tokens", "backchannel_logout_uri"} & set(form.fields)
