"""Authenticator apps: enrolment (QR code, first code), one use per code, removal, clean-up."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.mfa.context import METHODS_KEY
from accounts.mfa.models import RecoveryCode
from accounts.mfa.selectors import has_second_factor
from accounts.mfa.totp import (
    TotpRemovalRefused,
    totp_enrol_begin,
    totp_enrol_confirm,
    totp_provisioning,
    totp_remove,
    totp_verify,
)
from accounts.models import AuditEntry, User

from .mfa_helpers import ALWAYS, NEVER, code_for, confirmed_device, steady_step

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_policy(settings):
    settings.MFA_POLICY = NEVER


def test_an_enrolment_is_a_fresh_unconfirmed_device_that_does_not_count(user):
    device = totp_enrol_begin(user=user)
    assert not device.confirmed
    assert (device.digits, device.step, device.tolerance) == (6, 30, 1)
    assert not has_second_factor(user)
    again = totp_enrol_begin(user=user)
    # The person's earlier half-way enrolment is gone: one at a time.
    assert list(TOTPDevice.objects.filter(user=user)) == [again]


def test_stale_enrolments_of_anyone_are_cleaned_when_an_enrolment_starts(user, staff_user):
    stale = totp_enrol_begin(user=staff_user)
    TOTPDevice.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    young = TOTPDevice.objects.create(user=staff_user, name="x", confirmed=False)
    kept = confirmed_device(staff_user)
    TOTPDevice.objects.filter(pk=kept.pk).update(created_at=timezone.now() - timedelta(days=3))
    totp_enrol_begin(user=user)
    assert not TOTPDevice.objects.filter(pk=stale.pk).exists()
    assert TOTPDevice.objects.filter(pk__in=[young.pk, kept.pk]).count() == 2


def test_the_provisioning_uri_names_the_issuer_and_the_person_and_the_qr_code_is_svg(user, settings):
    settings.MFA_TOTP_ISSUER = "ABC: Identity"
    device = totp_enrol_begin(user=user)
    provisioning = totp_provisioning(device)
    uri = urlsplit(provisioning.uri)
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == f"/ABC Identity:{user.email}"
    query = parse_qs(uri.query)
    assert query["issuer"] == ["ABC Identity"] and query["secret"] == [provisioning.secret]
    assert query["digits"] == ["6"] and query["period"] == ["30"]
    assert provisioning.qr_svg.startswith('<svg role="img" ')
    assert "<title>QR code for your authenticator app</title>" in provisioning.qr_svg
    assert "<script" not in provisioning.qr_svg and "style=" not in provisioning.qr_svg


def test_a_first_right_code_confirms_and_is_audited(user):
    steady_step()
    device = totp_enrol_begin(user=user)
    assert not totp_enrol_confirm(
        actor=user, device=device, code="000000" if code_for(device) != "000000" else "111111"
    )
    device.refresh_from_db()
    assert not device.confirmed
    device.throttle_reset()
    assert totp_enrol_confirm(actor=user, device=device, code=code_for(device))
    device.refresh_from_db()
    assert device.confirmed and has_second_factor(user)
    entry = AuditEntry.objects.get(action="mfa.totp.enrol")
    assert entry.after["first_factor"] is True
    assert device.key not in str(entry.after) and "secret" not in str(entry.after)


def test_a_code_is_never_accepted_twice(user):
    steady_step()
    device = confirmed_device(user)
    code = code_for(device)
    assert totp_verify(user=user, code=code)
    assert not totp_verify(user=user, code=code)
    device.refresh_from_db()
    assert device.last_t >= 0
    device.throttle_reset()  # django-otp pauses a second after a refused code
    # The next step's code is still good (the app moved on).
    assert totp_verify(user=user, code=code_for(device, steps_ahead=1))


def test_codes_of_an_unconfirmed_device_do_not_sign_in(user):
    device = totp_enrol_begin(user=user)
    assert not totp_verify(user=user, code=code_for(device))


def test_codes_out_of_the_one_step_tolerance_are_refused(user):
    device = confirmed_device(user)
    assert not totp_verify(user=user, code=code_for(device, steps_ahead=3))
    device.refresh_from_db()
    device.throttle_reset()
    assert not totp_verify(user=user, code=code_for(device, steps_ahead=-3))


def test_removing_the_last_factor_is_refused_when_mfa_is_required(user, settings):
    device = confirmed_device(user)
    settings.MFA_POLICY = ALWAYS
    with pytest.raises(TotpRemovalRefused, match="last second factor"):
        totp_remove(actor=user, device=device)
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    second = confirmed_device(user)
    totp_remove(actor=user, device=second)
    assert not TOTPDevice.objects.filter(pk=second.pk).exists()


def test_removing_the_last_factor_drops_the_recovery_codes(user):
    device = confirmed_device(user)
    RecoveryCode.objects.create(user=user, code_hash="x" * 64)
    totp_remove(actor=user, device=device)
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action="mfa.totp.remove", target_id=str(user.pk)).exists()


# --- The account's security page -----------------------------------------------------------


def _setup_device(http: HttpClient) -> TOTPDevice:
    response = http.get("/account/security/authenticator/")
    assert response.status_code == HTTPStatus.OK
    device = TOTPDevice.objects.get(pk=http.session["mfa_setup_device"])
    assert device.confirmed is False
    assert totp_provisioning(device).secret in response.content.decode()
    assert b'<svg role="img"' in response.content
    return device


def test_adding_a_first_app_on_the_security_page_shows_recovery_codes_once(user_client, user):
    steady_step()
    device = _setup_device(user_client)
    # Reloading shows the same set-up, not a new secret.
    assert _setup_device(user_client) == device
    wrong = user_client.post("/account/security/authenticator/", {"code": "12345"})
    assert "Enter the 6 digits" in wrong.content.decode()
    response = user_client.post("/account/security/authenticator/", {"code": code_for(device)})
    assert response.status_code == HTTPStatus.OK
    assert "Your recovery codes" in response.content.decode()
    assert RecoveryCode.objects.filter(user=user).count() == 10
    assert response["Cache-Control"].startswith("max-age=0")
    # The code just typed counts for this session: it proved a second factor.
    assert user_client.session[METHODS_KEY] == ["pwd", "otp", "mfa"]
    listing = user_client.get("/account/security/")
    assert "10 unused recovery codes left" in listing.content.decode()


def test_a_wrong_first_code_is_refused_inline(user_client, user):
    device = _setup_device(user_client)
    wrong = "000000" if code_for(device) != "000000" else "111111"
    response = user_client.post("/account/security/authenticator/", {"code": wrong})
    assert response.status_code == HTTPStatus.OK
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed


def test_changing_factors_needs_a_second_factor_in_this_session(user, password):
    device = confirmed_device(user)
    http = HttpClient()
    http.force_login(user)  # a session that proved a password only
    response = http.post(f"/account/security/authenticator/{device.pk}/remove/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/verify/?next=%2Faccount%2Fsecurity%2F&acr=")
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert http.get("/account/security/authenticator/")["Location"].startswith("/login/verify/")


def _mfa_session(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    session = http.session
    session[METHODS_KEY] = ["pwd", "otp", "mfa"]
    session.save()
    return http


def test_the_last_factor_is_not_removed_when_required_and_the_page_says_why(user, settings):
    device = confirmed_device(user)
    settings.MFA_POLICY = ALWAYS
    http = _mfa_session(user)
    response = http.post(f"/account/security/authenticator/{device.pk}/remove/", follow=True)
    assert "was not removed" in response.content.decode()
    assert "your organisation requires one" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_removing_an_app_on_the_security_page(user, staff_user):
    device = confirmed_device(user)
    theirs = confirmed_device(staff_user)
    http = _mfa_session(user)
    # Someone else's device is not found, whatever its id.
    assert (
        http.post(f"/account/security/authenticator/{theirs.pk}/remove/").status_code == HTTPStatus.NOT_FOUND
    )
    response = http.post(f"/account/security/authenticator/{device.pk}/remove/", follow=True)
    assert "Authenticator app removed" in response.content.decode()
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert http.get(f"/account/security/authenticator/{device.pk}/remove/").status_code == (
        HTTPStatus.METHOD_NOT_ALLOWED
    )


def test_the_security_page_needs_a_sign_in_and_is_linked_from_the_account_page(user_client):
    assert HttpClient().get("/account/security/")["Location"].startswith("/login/?next=")
    assert 'href="/account/security/"' in user_client.get("/account/").content.decode()
