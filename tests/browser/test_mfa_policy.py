"""An administrator sets who must sign in with a second factor, on a phone and a desktop."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.mfa.models import Passkey
from accounts.mfa.selectors import has_second_factor
from authz import services
from authz.mfa import mfa_required
from authz.models import MfaPolicy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "390px"])
def test_requiring_a_second_factor_for_a_group(page, axe, staff_user, user, password, viewport):
    managers = services.group_create(actor=None, name="Managers")
    leads = services.group_create(actor=None, name="Team leads")
    services.group_nest(actor=None, parent=managers, child=leads)
    services.group_add_member(actor=None, group=leads, user=user)
    page.set_viewport_size(viewport)

    page.goto("/dashboard/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    nav = page.get_by_role("navigation", name="Dashboard")
    if viewport is PHONE:
        nav.get_by_text("Menu").click()
    nav.get_by_role("link", name="Multi-factor").click()
    expect(page.get_by_role("heading", name="Multi-factor sign-in")).to_be_visible()
    policy = page.locator("#mfa-policy")
    expect(policy).to_contain_text("Now: Never.")
    page.evaluate("window.noReload = true")

    # The group picker shows only for "members of chosen groups"; none chosen is refused.
    groups = policy.get_by_role("group", name="Groups")
    expect(groups).to_be_hidden()
    policy.get_by_role("radio", name="Required for members of chosen groups").check()
    expect(groups).to_be_visible()
    policy.get_by_role("button", name="Save policy…").click()
    expect(policy.get_by_text("Choose at least one group, or another option.")).to_be_visible()
    assert not axe(page)

    policy.get_by_role("checkbox", name="Managers").check()
    policy.get_by_role("button", name="Save policy…").click()
    expect(
        policy.get_by_role("heading", name="Change to “Required for members of chosen groups”: Managers?")
    ).to_be_visible()
    expect(policy.get_by_role("status")).to_contain_text(
        "1 person will need a second factor at every sign-in; 1 of them has none yet"
    )
    assert not axe(page)
    policy.get_by_role("button", name="Save policy").click()
    expect(policy.get_by_text("Tick the box to confirm, or cancel.")).to_be_visible()
    assert not MfaPolicy.objects.exists()

    policy.get_by_role("checkbox", name="I understand: 1 person will need a second factor").check()
    policy.get_by_role("button", name="Save policy").click()
    expect(policy.get_by_role("status")).to_have_text(
        "Saved: required for members of chosen groups. It applies from each person's next sign-in."
    )
    expect(policy).to_contain_text("Now: Required for members of chosen groups (Managers).")
    assert page.evaluate("window.noReload") is True
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    stored = MfaPolicy.objects.get()
    assert (stored.mode, list(stored.groups.all())) == (MfaPolicy.Mode.GROUPS, [managers])
    assert mfa_required(user) is True  # through Team leads, nested in Managers
    assert mfa_required(staff_user) is False


def test_back_to_never_after_staff(page, staff_user, password):
    page.goto("/dashboard/mfa/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    policy = page.locator("#mfa-policy")
    policy.get_by_role("radio", name="Required for staff").check()
    policy.get_by_role("button", name="Save policy…").click()
    expect(policy).to_contain_text("You are one of them")
    policy.get_by_role("checkbox", name="I understand: 1 person will need a second factor").check()
    policy.get_by_role("button", name="Save policy").click()
    expect(policy).to_contain_text("Now: Required for staff.")
    assert mfa_required(staff_user) is True

    policy.get_by_role("radio", name="Never").check()
    policy.get_by_role("button", name="Save policy…").click()
    policy.get_by_role("checkbox", name="I understand: nobody will be required").check()
    policy.get_by_role("button", name="Save policy").click()
    expect(policy.get_by_role("status")).to_have_text("Saved: nobody is required to use a second factor.")
    assert mfa_required(staff_user) is False


def test_resetting_a_persons_factors_from_their_page(page, axe, staff_user, user, password):
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    Passkey.objects.create(user=user, name="YubiKey", credential_id="cred-alice", public_key=b"k")
    page.set_viewport_size(PHONE)
    page.goto(f"/dashboard/people/{user.pk}/")
    page.get_by_label("Email address").fill(staff_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    section = page.locator("#user-mfa")
    expect(section.get_by_role("heading", name="Second factors")).to_be_visible()
    expect(section.get_by_role("row", name="Authenticator apps 1")).to_be_visible()
    expect(section.get_by_role("row", name="Passkeys and security keys 1")).to_be_visible()
    page.evaluate("window.noReload = true")

    section.get_by_role("button", name="Reset second factors").click()
    expect(section.get_by_role("status")).to_contain_text("Deletes 1 authenticator app, 1 passkey")
    assert not axe(page)
    section.get_by_role("button", name="Reset second factors").click()
    expect(section.get_by_role("status")).to_have_text("Second factors reset.")
    expect(section.get_by_role("row", name="Passkeys and security keys 0")).to_be_visible()
    assert page.evaluate("window.noReload") is True
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not has_second_factor(user)
