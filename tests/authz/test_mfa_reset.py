"""An administrator resets a person's second factors: all of them go, audited, and the
person enrols again at their next sign-in when the policy requires a factor."""

from __future__ import annotations

import html
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.mfa.models import Passkey, RecoveryCode
from accounts.mfa.reset import FactorCounts, factor_counts, factors_reset
from accounts.mfa.selectors import has_second_factor
from accounts.models import AuditEntry, User
from authz.models import MfaPolicy

pytestmark = pytest.mark.django_db


def _enrolled(person: User) -> None:
    TOTPDevice.objects.create(user=person, name="Phone", confirmed=True)
    TOTPDevice.objects.create(user=person, name="Tablet, half-enrolled", confirmed=False)
    Passkey.objects.create(user=person, name="YubiKey", credential_id=f"cred-{person.pk}-1", public_key=b"k1")
    Passkey.objects.create(user=person, name="Laptop", credential_id=f"cred-{person.pk}-2", public_key=b"k2")
    for index in range(10):
        RecoveryCode.objects.create(user=person, code_hash=f"hash-{index}")
    RecoveryCode.objects.filter(user=person, code_hash="hash-0").update(used_at="2026-01-01T00:00Z")


@pytest.fixture
def bob(password) -> User:
    person = User.objects.create_user(email="bob@abcinc.example", password=password, is_staff=True)
    _enrolled(person)
    return person


def _url(person: User) -> str:
    return f"/dashboard/people/{person.pk}/factors/reset/"


def test_counts_are_confirmed_apps_passkeys_and_unused_codes(bob):
    assert factor_counts(bob) == FactorCounts(authenticator_apps=1, passkeys=2, recovery_codes_left=9)


def test_reset_deletes_every_factor_and_is_audited(bob, user, staff_user):
    _enrolled(user)  # someone else's factors stay
    held = factors_reset(actor=staff_user, user=bob)
    assert held == FactorCounts(authenticator_apps=1, passkeys=2, recovery_codes_left=9)
    assert not TOTPDevice.objects.filter(user=bob).exists()  # the half-enrolled one too
    assert not Passkey.objects.filter(user=bob).exists()
    assert not RecoveryCode.objects.filter(user=bob).exists()  # used ones too
    assert not has_second_factor(bob)
    assert has_second_factor(user)
    entry = AuditEntry.objects.get(action="mfa.reset")
    assert (entry.actor, entry.target_id, entry.target_type) == (staff_user, str(bob.pk), "accounts.user")
    assert entry.before == {"authenticator_apps": 1, "passkeys": 2, "recovery_codes_left": 9}


def test_reset_ends_nothing_else(bob, staff_user, password):
    http = HttpClient()
    http.force_login(bob)
    factors_reset(actor=staff_user, user=bob)
    assert http.get("/account/").status_code == HTTPStatus.OK  # still signed in


def test_after_a_reset_the_person_enrols_again_at_the_next_sign_in(bob, staff_user, password):
    MfaPolicy.objects.create(mode=MfaPolicy.Mode.STAFF)
    factors_reset(actor=staff_user, user=bob)
    assert not has_second_factor(bob)
    browser = HttpClient()
    response = browser.post("/login/", {"username": bob.email, "password": password})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("accounts:mfa_enrol")
    assert "_auth_user_id" not in browser.session  # not signed in until they enrol


def test_before_a_reset_the_sign_in_asks_for_a_factor_and_after_it_a_password_will_do(
    bob, staff_user, password
):
    """With no policy requiring one: the factors they held were asked for; after the reset,
    nothing is left to ask."""
    before = HttpClient().post("/login/", {"username": bob.email, "password": password})
    assert before["Location"] == reverse("accounts:mfa_verify")
    factors_reset(actor=staff_user, user=bob)
    browser = HttpClient()
    after = browser.post("/login/", {"username": bob.email, "password": password})
    assert after.status_code == HTTPStatus.FOUND
    assert after["Location"] not in {reverse("accounts:mfa_verify"), reverse("accounts:mfa_enrol")}
    assert browser.session["_auth_user_id"] == str(bob.pk)


def test_the_user_page_shows_the_factors_and_the_reset_button(staff_client, bob):
    text = html.unescape(staff_client.get(f"/dashboard/people/{bob.pk}/").content.decode())
    section = text[text.index('id="user-mfa"') :]
    assert "<tr><td>Authenticator apps</td><td>1</td></tr>" in section
    assert "<tr><td>Passkeys and security keys</td><td>2</td></tr>" in section
    assert "<tr><td>Recovery codes left</td><td>9</td></tr>" in section
    assert "does not require one for them" in section
    assert "Reset second factors" in section


def test_the_reset_asks_for_confirmation_first(staff_client, bob):
    response = staff_client.get(_url(bob))
    assert response.status_code == HTTPStatus.OK
    text = html.unescape(response.content.decode())
    assert f"Reset the second factors of {bob.email}?" in text
    assert "Deletes 1 authenticator app, 2 passkeys and 9 unused recovery codes." in text
    assert has_second_factor(bob)


def test_the_confirmation_says_they_enrol_again_when_required(staff_client, bob):
    MfaPolicy.objects.create(mode=MfaPolicy.Mode.STAFF)
    text = html.unescape(staff_client.get(_url(bob), HTTP_HX_REQUEST="true").content.decode())
    assert "<h1>" not in text
    assert "they set up a new one at their next sign-in" in text


def test_confirming_resets_and_returns_the_section_over_htmx(staff_client, bob, staff_user):
    MfaPolicy.objects.create(mode=MfaPolicy.Mode.STAFF)
    response = staff_client.post(_url(bob), HTTP_HX_REQUEST="true")
    assert response.status_code == HTTPStatus.OK
    text = html.unescape(response.content.decode())
    assert "<h1>" not in text
    assert "Second factors reset. They set up a new one at their next sign-in." in text
    assert "<tr><td>Passkeys and security keys</td><td>0</td></tr>" in text
    assert "Reset second factors" not in text  # nothing left to reset
    assert not has_second_factor(bob)
    assert AuditEntry.objects.get(action="mfa.reset").actor == staff_user


def test_confirming_without_javascript_goes_back_to_the_page(staff_client, bob):
    response = staff_client.post(_url(bob))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/people/{bob.pk}/#user-mfa"
    assert not has_second_factor(bob)


def test_non_staff_cannot_reset(user_client, bob):
    assert user_client.post(_url(bob)).status_code == HTTPStatus.FORBIDDEN
    assert has_second_factor(bob)
    assert not AuditEntry.objects.filter(action="mfa.reset").exists()


def test_auditors_cannot_reset(auditor_client, bob):
    assert auditor_client.post(_url(bob)).status_code == HTTPStatus.FORBIDDEN
    assert has_second_factor(bob)


def test_an_unknown_person_is_not_found(staff_client):
    assert staff_client.post("/dashboard/people/999999/factors/reset/").status_code == HTTPStatus.NOT_FOUND
