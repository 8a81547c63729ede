"""Passkeys in a real browser, with Chromium's virtual authenticator (DevTools protocol
``WebAuthn.addVirtualAuthenticator``): register one on the account's security page, sign in
with a password and the passkey, and with the passkey alone; on a phone and a desktop."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from accounts.mfa.context import METHODS_KEY
from accounts.mfa.models import Passkey
from tests.accounts.mfa_helpers import ALWAYS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# A fingerprint reader's: discoverable passkeys, the user verified, no prompt to click.
PLATFORM_AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture
def authenticator(page, live_server, settings):
    """A platform authenticator that holds discoverable passkeys and verifies its user (as a
    fingerprint reader would), answering without a prompt. The relying party is the test
    server's origin (http://localhost:<port>, a secure context to the browser)."""
    settings.WEBAUTHN_ORIGIN = live_server.url
    settings.MFA_POLICY = "accounts.mfa.policy.never"
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": PLATFORM_AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def _session(page) -> dict:
    """The browser's Django session, read from the database ({} when it has none)."""
    cookies = [c for c in page.context.cookies() if c["name"] == django_settings.SESSION_COOKIE_NAME]
    return SessionStore(session_key=cookies[0]["value"]).load() if cookies else {}


def _session_methods(page) -> list[str]:
    """How the browser's session says its person signed in (RFC 8176 amr values)."""
    return _session(page)[METHODS_KEY]


def _fits(page, viewport) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def _sign_out(page) -> None:
    page.goto("/account/")
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Password")).to_be_visible()


def _password(page, user, password, *, next_url: str) -> None:
    page.goto(f"/login/?next={next_url}")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_register_a_passkey_then_sign_in_with_it_after_a_password_and_without_one(
    page, axe, viewport, user, password, authenticator
):
    cdp, authenticator_id = authenticator
    page.set_viewport_size(viewport)
    _password(page, user, password, next_url="/account/security/")
    passkeys = page.locator("#passkeys")
    expect(passkeys.get_by_role("heading", name="Passkeys and security keys")).to_be_visible()
    expect(passkeys.get_by_text("No passkey yet.")).to_be_visible()

    # A name is needed: the field says so, and nothing is made.
    passkeys.get_by_role("button", name="Add a passkey").click()
    expect(passkeys.get_by_text("Give the passkey a name")).to_be_visible()
    expect(passkeys.get_by_label("Name of the new passkey")).to_have_attribute("aria-invalid", "true")
    passkeys.get_by_label("Name of the new passkey").fill("Laptop")
    passkeys.get_by_role("button", name="Add a passkey").click()
    # The first second factor comes with recovery codes, shown once.
    expect(page.get_by_role("status")).to_contain_text("Passkey “Laptop” added.")
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(10)
    page.get_by_role("link", name="I saved my codes, continue").click()
    expect(passkeys.get_by_text("Laptop", exact=True)).to_be_visible()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"]
    assert Passkey.objects.get(user=user).name == "Laptop"
    _fits(page, viewport)
    assert axe(page) == []

    # A password, then the passkey.
    _sign_out(page)
    _password(page, user, password, next_url="/account/security/")
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    _fits(page, viewport)
    assert axe(page) == []
    page.get_by_role("button", name="Use a passkey or security key").click()
    expect(page).to_have_url(re.compile(r"^http://[^/]+/account/security/$"))
    assert _session_methods(page) == ["pwd", "hwk", "mfa"]
    assert Passkey.objects.get(user=user).last_used_at is not None

    # The passkey alone, from the sign-in page: the authenticator verified its user.
    _sign_out(page)
    page.goto("/login/?next=/account/security/")
    sign_in = page.get_by_role("button", name="Continue with a passkey")
    expect(sign_in).to_be_visible()
    _fits(page, viewport)
    assert axe(page) == []
    sign_in.click()
    expect(page).to_have_url(re.compile(r"^http://[^/]+/account/security/$"))
    assert _session_methods(page) == ["hwk", "mfa"]

    # Renamed, then removed (the session proved a passkey, so it may change them).
    passkeys.get_by_label("New name for Laptop").fill("Work laptop")
    passkeys.get_by_role("button", name="Rename").click()
    expect(passkeys.get_by_role("status")).to_have_text("Passkey renamed “Work laptop”.")
    page.once("dialog", lambda dialog: dialog.accept())
    passkeys.get_by_role("button", name="Remove the passkey Work laptop").click()
    expect(passkeys.get_by_text("No passkey yet.")).to_be_visible()
    assert not Passkey.objects.filter(user=user).exists()


@pytest.mark.usefixtures("authenticator")
def test_a_passkey_this_site_does_not_know_is_refused_on_the_sign_in_page(page, user):
    # A discoverable passkey for this site that the server never registered (or removed).
    page.goto("/login/")
    page.evaluate(
        """async () => {
          const options = {publicKey: {challenge: new Uint8Array(32), rp: {name: "x"},
            user: {id: new Uint8Array([1, 2, 3]), name: "ghost", displayName: "Ghost"},
            pubKeyCredParams: [{type: "public-key", alg: -7}],
            authenticatorSelection: {residentKey: "required", userVerification: "required"}}};
          await navigator.credentials.create(options);
        }"""
    )
    page.get_by_role("button", name="Continue with a passkey").click()
    expect(page.get_by_text("This passkey is not registered here.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"^http://[^/]+/login/$"))
    assert "_auth_user_id" not in _session(page)


def test_a_person_who_must_use_mfa_enrols_a_synced_passkey_at_sign_in(
    page, axe, user, password, authenticator, settings
):
    cdp, authenticator_id = authenticator
    # A password manager's passkey instead: backed up, so a software key (swk) in amr.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator_id})
    options = {**PLATFORM_AUTHENTICATOR, "defaultBackupEligibility": True, "defaultBackupState": True}
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    settings.MFA_POLICY = ALWAYS
    page.set_viewport_size(PHONE)
    _password(page, user, password, next_url="/account/")
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    _fits(page, PHONE)
    assert axe(page) == []
    enrol = page.locator("#passkey-enrol")
    enrol.get_by_label("Name of the new passkey").fill("Phone")
    enrol.get_by_role("button", name="Set up a passkey").click()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(10)
    page.get_by_role("link", name="I saved my codes, continue").click()
    expect(page).to_have_url(re.compile(r"^http://[^/]+/account/$"))
    assert _session_methods(page) == ["pwd", "swk", "mfa"]
    assert Passkey.objects.get(user=user).backed_up is True
