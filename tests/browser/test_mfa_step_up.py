"""A step-up by acr_values in Chromium: someone signed in with a password alone is asked
for their authenticator app's code when an application asks for multi-factor, comes back to
the application, and the ID token it gets says so (amr, acr), checked against the JWKS."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as HttpClient
from playwright.sync_api import expect

from accounts.mfa.context import ACR_MFA
from tests.accounts.mfa_helpers import NEVER, code_for, confirmed_device, steady_step
from tests.oauth import ISSUER, LOOPBACK_CALLBACK, Pkce, authorize_url, exchange, jwks, verify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_acr_values_step_a_password_session_up_with_a_code(
    page, live_server, axe, viewport, user, password, public_client, settings
):
    settings.MFA_POLICY = NEVER
    page.set_viewport_size(viewport)
    # Signed in with a password alone (no second factor yet) ...
    page.goto("/login/?next=/account/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/account/")
    # ... who has since set up an authenticator app.
    device = confirmed_device(user)

    callbacks: list[str] = []

    def application(route) -> None:
        # The application's callback (a loopback address nothing listens on): keep the URL.
        callbacks.append(route.request.url)
        route.fulfill(body="signed in")

    page.route("http://127.0.0.1/callback**", application)
    pkce = Pkce.new()
    url = authorize_url(
        public_client.client_id, pkce, redirect_uri=LOOPBACK_CALLBACK, acr_values=ACR_MFA, nonce="n-step"
    )
    page.goto(url)
    expect(page.get_by_role("heading", name="Confirm it's still you")).to_be_visible()
    assert urlsplit(page.url).path == "/login/verify/"
    assert parse_qs(urlsplit(page.url).query)["acr"] == [ACR_MFA]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert not axe(page), axe(page)

    steady_step()
    page.get_by_label("Code from your authenticator app").fill(code_for(device))
    page.get_by_role("button", name="Verify").click()
    # Back at the application's request: the consent screen, then the callback.
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("signed in")).to_be_visible()

    code = parse_qs(urlsplit(callbacks[-1]).query)["code"][0]
    http = HttpClient()
    tokens = exchange(http, public_client.client_id, code, pkce.verifier, redirect_uri=LOOPBACK_CALLBACK)
    assert tokens.status_code == HTTPStatus.OK, tokens.content
    claims = verify(
        tokens.json()["id_token"], jwks(http), iss=ISSUER, aud=public_client.client_id, nonce="n-step"
    )
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["acr"] == ACR_MFA
