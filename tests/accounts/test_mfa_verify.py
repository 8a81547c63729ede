"""The second step of a sign-in, through the real /login/ form: nobody is signed in by a
password alone when they have a second factor; codes are one use; wrong ones lock out."""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client as HttpClient
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.mfa.context import ACR_MFA, ACR_PHISHING_RESISTANT, AUTH_TIME_KEY, METHODS_KEY
from accounts.mfa.recovery import recovery_codes_generate, recovery_codes_remaining
from accounts.models import AuditEntry

from .mfa_helpers import ALWAYS, NEVER, code_for, confirmed_device, steady_step

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("steady_rate_window")]
WRONG = "That code is not right, or was already used."


@pytest.fixture(autouse=True)
def _no_policy(settings):
    settings.MFA_POLICY = NEVER


@pytest.fixture
def device(user) -> TOTPDevice:
    steady_step()
    return confirmed_device(user)


def _password(http: HttpClient, email: str, password: str, next_url: str = "/account/sessions/"):
    return http.post(f"/login/?next={next_url}", {"username": email, "password": password})


def _code(http: HttpClient, code: str, query: str = ""):
    return http.post(f"/login/verify/{query}", {"factor": "totp", "code": code})


def _signed_in(http: HttpClient) -> bool:
    return http.get("/account/").status_code == HTTPStatus.OK


def test_a_password_alone_does_not_sign_in_a_person_with_an_app(user, password, device):
    http = HttpClient()
    response = _password(http, user.email, password)
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == "/login/verify/"
    assert http.get("/account/")["Location"].startswith("/login/?next=")
    page = http.get("/login/verify/")
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    assert user.email in html
    # No recovery codes yet: no recovery form.
    assert 'name="recovery_code"' not in html

    done = _code(http, code_for(device))
    assert done.status_code == HTTPStatus.FOUND and done["Location"] == "/account/sessions/"
    assert http.session[METHODS_KEY] == ["pwd", "otp", "mfa"]
    assert abs(http.session[AUTH_TIME_KEY] - time.time()) < 5
    assert _signed_in(http)
    assert AuditEntry.objects.filter(action="security.login", target_id=str(user.pk)).count() == 1


def test_a_replayed_code_is_refused(user, password, device):
    code = code_for(device)
    first = HttpClient()
    _password(first, user.email, password)
    assert _code(first, code).status_code == HTTPStatus.FOUND
    second = HttpClient()
    _password(second, user.email, password)
    response = _code(second, code)
    assert response.status_code == HTTPStatus.OK
    assert WRONG in response.content.decode()
    assert not _signed_in(second)
    assert AuditEntry.objects.filter(action="security.mfa.failure", target_id=str(user.pk)).count() == 1


def test_wrong_codes_count_toward_the_lockout(user, password, device, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the lockout's count, not django-otp's pause, is tested
    right = code_for(device)
    wrong = "000000" if right != "000000" else "111111"
    http = HttpClient()
    _password(http, user.email, password)
    statuses = [_code(http, wrong).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses[0] == HTTPStatus.OK and statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS
    locked = _code(http, right)
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert b"Too many attempts" in locked.content
    assert not _signed_in(http)
    # The account is paused for its password too, from anywhere.
    elsewhere = HttpClient(REMOTE_ADDR="198.51.100.7")
    assert _password(elsewhere, user.email, password).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert AccessAttempt.objects.filter(username=user.email).exists()
    # Each is recorded as a second-factor failure, not as a wrong password.
    assert AuditEntry.objects.filter(action="security.mfa.failure").exists()
    assert not AuditEntry.objects.filter(action="security.login_failure").exists()


def test_a_fast_retry_after_a_wrong_code_is_asked_to_wait(user, password, device):
    right = code_for(device)
    http = HttpClient()
    _password(http, user.email, password)
    _code(http, "000000" if right != "000000" else "111111")
    response = _code(http, right)
    assert "Too many wrong codes in a row: wait" in response.content.decode()
    assert not _signed_in(http)


def test_a_malformed_code_is_refused_inline_and_not_counted(user, password, device):
    http = HttpClient()
    _password(http, user.email, password)
    response = _code(http, "12ab")
    assert "Enter the 6 digits your authenticator app shows." in response.content.decode()
    assert not AuditEntry.objects.filter(action="security.mfa.failure").exists()


def test_an_expired_pending_sign_in_is_refused(user, password, device, monkeypatch):
    http = HttpClient()
    _password(http, user.email, password)
    code = code_for(device)
    later = time.time() + 6 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    response = _code(http, code)
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == "/login/"
    monkeypatch.undo()
    assert not _signed_in(http)
    assert "took too long" in http.get("/login/").content.decode()


def test_without_a_pending_sign_in_the_page_sends_to_sign_in(db):
    assert HttpClient().get("/login/verify/")["Location"] == "/login/"
    assert HttpClient().get("/login/enrol/")["Location"] == "/login/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_next_never_leads_off_the_site(user, password, device, target):
    http = HttpClient()
    _password(http, user.email, password, next_url=target)
    done = _code(http, code_for(device))
    assert done.status_code == HTTPStatus.FOUND
    assert done["Location"].startswith("/") and not done["Location"].startswith("//")
    assert "evil" not in done["Location"]


def _stepped_up_client(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    session = http.session
    session[METHODS_KEY], session[AUTH_TIME_KEY] = ["pwd"], 1
    session.save()
    return http


def test_a_step_up_adds_the_code_to_a_signed_in_session(user, device):
    http = _stepped_up_client(user)
    query = f"?next=/account/sessions/&acr={ACR_MFA}"
    assert "Confirm it's still you" in http.get(f"/login/verify/{query}").content.decode()
    done = _code(http, code_for(device), query)
    assert done["Location"] == "/account/sessions/"
    assert http.session[METHODS_KEY] == ["pwd", "otp", "mfa"] and http.session[AUTH_TIME_KEY] > 1


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/"])
def test_a_step_up_refuses_to_go_off_the_site(user, device, target):
    http = _stepped_up_client(user)
    done = _code(http, code_for(device), f"?next={target}")
    assert done["Location"] == "/account/"


def test_a_phishing_resistant_step_up_takes_only_a_passkey(user, device):
    recovery_codes_generate(actor=user, user=user)
    http = _stepped_up_client(user)
    query = f"?next=/account/&acr={ACR_PHISHING_RESISTANT}"
    html = http.get(f"/login/verify/{query}").content.decode()
    assert 'name="code"' not in html and 'name="recovery_code"' not in html
    response = _code(http, code_for(device), query)
    assert response.status_code == HTTPStatus.OK
    assert http.session[METHODS_KEY] == ["pwd"]


def test_a_step_up_without_a_factor_goes_to_enrol(user_client):
    response = user_client.get(f"/login/verify/?next=/account/&acr={ACR_MFA}")
    assert response["Location"].startswith("/login/enrol/?next=%2Faccount%2F")


def test_signing_in_with_a_recovery_code(user, password, device, django_capture_on_commit_callbacks):
    codes = recovery_codes_generate(actor=user, user=user)
    http = HttpClient()
    _password(http, user.email, password)
    assert 'name="recovery_code"' in http.get("/login/verify/").content.decode()
    wrong = http.post("/login/verify/", {"factor": "recovery", "recovery_code": "abcde-fghjk"})
    assert "That recovery code is not right" in wrong.content.decode()
    assert '<details class="mfa-other" open>' in wrong.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = http.post("/login/verify/", {"factor": "recovery", "recovery_code": codes[0]})
    assert done["Location"] == "/account/sessions/"
    assert http.session[METHODS_KEY] == ["pwd", "otp", "mfa"]
    page = http.get("/account/sessions/").content.decode()
    assert "You used a recovery code" in page and "9 unused codes remain" in page
    assert recovery_codes_remaining(user) == 9
    assert [message.subject for message in mail.outbox] == ["A recovery code was used to sign in"]
    again = HttpClient()
    _password(again, user.email, password)
    reused = again.post("/login/verify/", {"factor": "recovery", "recovery_code": codes[0]})
    assert "That recovery code is not right, or was already used." in reused.content.decode()


def test_the_required_action_enrols_then_signs_in(user, password, settings):
    settings.MFA_POLICY = ALWAYS
    steady_step()
    http = HttpClient()
    response = _password(http, user.email, password)
    assert response["Location"] == "/login/enrol/"
    assert not _signed_in(http)
    page = http.get("/login/enrol/")
    assert b'<svg role="img"' in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert device.name and not _signed_in(http)
    done = http.post("/login/enrol/", {"code": code_for(device)})
    assert done.status_code == HTTPStatus.OK
    html = done.content.decode()
    assert "Your recovery codes" in html and 'href="/account/sessions/"' in html
    assert http.session[METHODS_KEY] == ["pwd", "otp", "mfa"]
    assert _signed_in(http)
    # The next sign-in asks for a code, from the next step (this one's was used).
    later = HttpClient()
    assert _password(later, user.email, password)["Location"] == "/login/verify/"
    device.refresh_from_db()
    assert _code(later, code_for(device, steps_ahead=1)).status_code == HTTPStatus.FOUND


def test_enrolling_is_no_way_round_the_factor_one_has(user, password, device, settings):
    settings.MFA_POLICY = ALWAYS
    http = HttpClient()
    _password(http, user.email, password)
    response = http.post("/login/enrol/", {"code": "123456"})
    assert response["Location"].startswith("/login/verify/")
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert not _signed_in(http)


def test_signing_in_again_while_signed_in_finishes_that_sign_in(user, password, device, staff_user):
    # prompt=login or max_age send a signed-in person back to /login/; so may "sign in as
    # someone else". The pending sign-in is the one the code finishes, and it goes on to its next.
    http = HttpClient()
    http.force_login(staff_user)
    _password(http, user.email, password, next_url="/account/sessions/")
    page = http.get("/login/verify/").content.decode()
    assert user.email in page and "Confirm it's you" in page
    done = _code(http, code_for(device))
    assert done["Location"] == "/account/sessions/"
    assert int(http.session["_auth_user_id"]) == user.pk
    assert http.session[METHODS_KEY] == ["pwd", "otp", "mfa"]
