"""The account page: a person sees the applications they allowed and revokes their own consent."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from oauth2_provider.models import get_refresh_token_model

from accounts.models import AuditEntry, User
from apis.models import Api
from apis.tokens import InvalidToken, verify_access_token
from authz.models import Consent
from authz.services import consent_remember
from clients.models import Client
from clients.services import client_create
from tests.oauth import LOOPBACK_CALLBACK, MOBILE_CALLBACK, Pkce, authorize_url, exchange, get_code

pytestmark = pytest.mark.django_db

RefreshToken = get_refresh_token_model()
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/account/"}
SCOPE = "openid offline_access read:timesheets"


@pytest.fixture
def other_app(db) -> Client:
    client, _ = client_create(
        app_type=Client.AppType.NATIVE,
        name="Expenses Mobile (test)",
        client_id="test-expenses",
        redirect_uris=[MOBILE_CALLBACK, LOOPBACK_CALLBACK],
    )
    return client


@pytest.fixture
def consent(user, public_client, timesheets_api) -> Consent:
    return consent_remember(
        user=user,
        client=public_client,
        audience=timesheets_api.identifier,
        scopes=["openid", "read:timesheets"],
    )


def _revoke_url(consent: Consent) -> str:
    return f"/account/consents/{consent.pk}/revoke/"


def _sign_in_to_app(http: HttpClient, client: Client, api: Api) -> dict:
    """The authorization code flow with offline access, through the consent screen."""
    pkce = Pkce.new()
    code = get_code(http, client.client_id, pkce, scope=SCOPE, audience=api.identifier)
    response = exchange(http, client.client_id, code, pkce.verifier)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _refresh(client: Client, refresh_token: str):
    return HttpClient().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id},
    )


def test_the_page_keeps_its_path_and_name(user_client, user):
    assert reverse("accounts:home") == "/account/"
    response = user_client.get("/account/")
    assert response.status_code == HTTPStatus.OK
    assert response.context["claims"]["sub"] == str(user.sub)  # the profile part is unchanged


def test_the_page_lists_my_consents_and_not_other_peoples(
    user_client, consent, staff_user, other_app, timesheets_api
):
    consent_remember(user=staff_user, client=other_app, audience="", scopes=["openid", "email"])
    page = user_client.get("/account/").content.decode()

    assert 'id="account-consents"' in page
    assert f'id="consent-{consent.pk}"' in page
    assert "Timesheets Mobile (test)" in page
    assert f"<code>{timesheets_api.identifier}</code>" in page
    assert "<code>read:timesheets</code>" in page
    assert consent.created_at.strftime("%Y-%m-%d") in page
    assert f'action="{_revoke_url(consent)}"' in page
    assert "Expenses Mobile (test)" not in page
    assert "<code>email</code>" not in page


def test_without_consents_the_page_says_so(user_client):
    assert "You have not allowed any application" in user_client.get("/account/").content.decode()


def test_revoke_with_htmx_swaps_the_list(user_client, user, consent, public_client):
    response = user_client.post(_revoke_url(consent), **HTMX)

    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "<html" not in body and "Your profile" not in body  # the fragment alone
    assert "Consent for “Timesheets Mobile (test)” revoked" in body
    assert f'id="consent-{consent.pk}"' not in body
    assert "HX-Request" in response["Vary"]
    assert not Consent.objects.filter(pk=consent.pk).exists()
    entry = AuditEntry.objects.get(action="consent.revoke")
    assert entry.actor == user
    assert entry.target_id == str(user.pk)
    assert entry.before is not None
    assert entry.before["client"] == public_client.client_id


def test_revoke_without_javascript_redirects_back_with_a_message(user_client, user, consent):
    response = user_client.post(_revoke_url(consent))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/account/"
    assert not Consent.objects.filter(pk=consent.pk).exists()
    assert AuditEntry.objects.get(action="consent.revoke").actor == user
    page = user_client.get("/account/").content.decode()
    assert "Consent for “Timesheets Mobile (test)” revoked" in page
    assert f'id="consent-{consent.pk}"' not in page


def test_another_persons_consent_is_not_found(user_client, staff_user, other_app):
    theirs = consent_remember(user=staff_user, client=other_app, audience="", scopes=["openid"])

    for extra in ({}, HTMX):
        assert user_client.post(_revoke_url(theirs), **extra).status_code == HTTPStatus.NOT_FOUND
    assert Consent.objects.filter(pk=theirs.pk).exists()
    assert not AuditEntry.objects.filter(action="consent.revoke").exists()


def test_anonymous_is_sent_to_sign_in(consent):
    http = HttpClient()
    assert http.get("/account/")["Location"].startswith("/login/")
    response = http.post(_revoke_url(consent))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/")
    assert Consent.objects.filter(pk=consent.pk).exists()


def test_revoke_is_a_post_with_csrf(user, consent):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(user)
    assert http.get(_revoke_url(consent)).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert http.post(_revoke_url(consent)).status_code == HTTPStatus.FORBIDDEN
    assert Consent.objects.filter(pk=consent.pk).exists()


def test_revoking_ends_that_applications_grants_and_it_asks_again(
    user_client, user, public_client, other_app, timesheets_api
):
    mine = _sign_in_to_app(user_client, public_client, timesheets_api)
    other = _sign_in_to_app(user_client, other_app, timesheets_api)
    verify_access_token(mine["access_token"], audience=timesheets_api.identifier)
    consent = Consent.objects.get(user=user, client=public_client)

    response = user_client.post(_revoke_url(consent), **HTMX)
    assert "signed out of it" in response.content.decode()

    # The application's refresh and access tokens stop working at once.
    assert _refresh(public_client, mine["refresh_token"]).json()["error"] == "invalid_grant"
    with pytest.raises(InvalidToken):
        verify_access_token(mine["access_token"], audience=timesheets_api.identifier)
    assert not RefreshToken.objects.filter(
        user=user, application=public_client, revoked__isnull=True
    ).exists()
    entry = AuditEntry.objects.get(action="refresh_token.revoke")
    assert entry.actor == user
    # The next sign-in to that application shows the consent screen again.
    again = user_client.get(
        authorize_url(public_client.client_id, Pkce.new(), scope=SCOPE, audience=timesheets_api.identifier)
    )
    assert again.status_code == HTTPStatus.OK
    assert "form" in again.context

    # Other applications the person allowed keep their access and their consent.
    verify_access_token(other["access_token"], audience=timesheets_api.identifier)
    assert _refresh(other_app, other["refresh_token"]).status_code == HTTPStatus.OK
    assert Consent.objects.filter(user=user, client=other_app).exists()


def test_revoking_ends_grants_without_a_refresh_token(user_client, user, public_client, timesheets_api):
    pkce = Pkce.new()
    code = get_code(
        user_client,
        public_client.client_id,
        pkce,
        scope="openid read:timesheets",
        audience=timesheets_api.identifier,
    )
    tokens = exchange(user_client, public_client.client_id, code, pkce.verifier).json()
    assert "refresh_token" not in tokens

    user_client.post(_revoke_url(Consent.objects.get(user=user, client=public_client)))

    with pytest.raises(InvalidToken):
        verify_access_token(tokens["access_token"], audience=timesheets_api.identifier)
    entry = AuditEntry.objects.get(action="grant.revoke")
    assert entry.actor == user
    assert entry.before == {"client": public_client.client_id}


def test_revoking_leaves_other_peoples_grants_alone(
    user_client, user, staff_user, password, public_client, timesheets_api
):
    staff_http = HttpClient()
    staff_http.force_login(staff_user)
    theirs = _sign_in_to_app(staff_http, public_client, timesheets_api)
    _sign_in_to_app(user_client, public_client, timesheets_api)

    user_client.post(_revoke_url(Consent.objects.get(user=user, client=public_client)))

    verify_access_token(theirs["access_token"], audience=timesheets_api.identifier)
    assert _refresh(public_client, theirs["refresh_token"]).status_code == HTTPStatus.OK
    assert Consent.objects.filter(user=staff_user, client=public_client).exists()


def test_the_page_links_to_password_sessions_and_email_confirmation(user_client, user):
    user.email_verified = False
    user.save()
    page = user_client.get("/account/").content.decode()
    assert 'href="/account/password/"' in page
    assert 'href="/account/sessions/"' in page
    assert 'action="/account/email/verify/"' in page
    user.email_verified = True
    user.save()
    assert 'action="/account/email/verify/"' not in user_client.get("/account/").content.decode()


# --- Applications you're signed in to ----------------------------------------------------------


def test_the_page_lists_the_apps_that_keep_me_signed_in(
    user_client, public_client, other_app, timesheets_api
):
    _sign_in_to_app(user_client, public_client, timesheets_api)
    page = user_client.get("/account/").content.decode()
    assert f'id="signed-in-app-{public_client.pk}"' in page
    assert f'id="signed-in-app-{other_app.pk}"' not in page


def test_signing_out_of_an_app_ends_its_refresh_tokens_and_keeps_the_consent(
    user_client, user, public_client, other_app, timesheets_api
):
    mine = _sign_in_to_app(user_client, public_client, timesheets_api)
    other = _sign_in_to_app(user_client, other_app, timesheets_api)
    response = user_client.post(f"/account/apps/{public_client.pk}/sign-out/", **HTMX)
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "Signed out of" in body and "<html" not in body  # the fragment only
    assert _refresh(public_client, mine["refresh_token"]).json()["error"] == "invalid_grant"
    assert _refresh(other_app, other["refresh_token"]).status_code == HTTPStatus.OK
    assert Consent.objects.filter(user=user, client=public_client).exists()


def test_nobody_signs_someone_else_out_of_an_app(user_client, password, public_client, timesheets_api):
    other = User.objects.create_user(email="other@abcinc.example", password=password)
    other_http = HttpClient()
    other_http.force_login(other)
    theirs = _sign_in_to_app(other_http, public_client, timesheets_api)
    response = user_client.post(f"/account/apps/{public_client.pk}/sign-out/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert _refresh(public_client, theirs["refresh_token"]).status_code == HTTPStatus.OK
