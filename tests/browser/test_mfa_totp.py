"""An authenticator app in a real browser: set it up on the account's security page (the
test reads the secret off the page and computes the codes, as the app would), then sign in
with a password and a code, and with a recovery code; on a phone and on a desktop."""

from __future__ import annotations

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from accounts.mfa.recovery import recovery_codes_remaining
from accounts.models import AuditEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _code(secret: str, *, steps_ahead: int = 0) -> str:
    totp = TOTP(b32decode(secret), 30, 0, 6, 0)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def _fits(page, viewport) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def _password_step(page, email: str, password: str) -> None:
    page.goto("/login/?next=/account/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()


def _sign_out(page) -> None:
    page.goto("/account/")
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Password")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_set_up_an_app_then_sign_in_with_a_code_and_with_a_recovery_code(
    page, live_server, axe, viewport, user, password, settings
):
    settings.MFA_POLICY = "accounts.mfa.policy.never"
    remaining = 30 - time.time() % 30
    if remaining < 6:  # the codes below belong to this step and the next
        time.sleep(remaining + 0.2)
    page.set_viewport_size(viewport)
    page.goto("/account/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Second factors").click()
    expect(page.get_by_role("heading", name="Second factors", level=1)).to_be_visible()
    assert not axe(page), axe(page)

    page.get_by_role("link", name="Add an authenticator app").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    assert len(secret) == 32
    _fits(page, viewport)
    assert not axe(page), axe(page)
    wrong = "000000" if _code(secret) != "000000" else "111111"
    page.get_by_label("Code from your authenticator app").fill(wrong)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    # django-otp pauses a second after a wrong code.
    page.wait_for_timeout(1100)
    page.get_by_label("Code from your authenticator app").fill(_code(secret))
    page.get_by_role("button", name="Confirm").click()

    codes_list = page.get_by_role("list", name="Recovery codes")
    expect(codes_list.get_by_role("listitem")).to_have_count(10)
    codes = [text.strip() for text in codes_list.get_by_role("listitem").all_inner_texts()]
    _fits(page, viewport)
    assert not axe(page), axe(page)
    page.get_by_role("link", name="I saved my codes, continue").click()
    expect(page.get_by_text("10 unused recovery codes left")).to_be_visible()
    expect(page.get_by_role("button", name="Remove Authenticator app", exact=False)).to_be_visible()

    # A password alone no longer signs in: the code does.
    _sign_out(page)
    _password_step(page, user.email, password)
    _fits(page, viewport)
    assert not axe(page), axe(page)
    code_box = page.get_by_label("Code from your authenticator app")
    assert code_box.get_attribute("autocomplete") == "one-time-code"
    code_box.fill(_code(secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name=f"Hello, {user.get_short_name()}")).to_be_visible()

    # Without the app: a recovery code, which then no longer works.
    _sign_out(page)
    _password_step(page, user.email, password)
    page.get_by_text("Use a recovery code").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Use recovery code").click()
    expect(page.get_by_text("You used a recovery code")).to_be_visible()
    expect(page.get_by_text("9 unused codes remain")).to_be_visible()
    assert recovery_codes_remaining(user) == 9
    assert AuditEntry.objects.filter(action="mfa.recovery.use").count() == 1
