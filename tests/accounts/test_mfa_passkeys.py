"""Passkeys with real WebAuthn data (tests/accounts/passkey_authenticator.py makes it):
registration, a second step, a step-up, a passwordless sign-in, and every way one is refused."""

from __future__ import annotations

import json
import time
from http import HTTPStatus

import pytest
from axes.models import AccessAttempt
from django.test import Client as HttpClient
from django.urls import reverse

from accounts.mfa import passkeys
from accounts.mfa.context import AUTH_TIME_KEY, METHODS_KEY, PENDING_KEY
from accounts.mfa.models import Passkey, RecoveryCode
from accounts.models import AuditEntry, User

from .passkey_authenticator import SoftAuthenticator, b64url

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"  # settings.OIDC_ISSUER in the test settings


def always(user: User) -> bool:
    """An MFA_POLICY under which everyone must use a second factor."""
    return True


def _post(http: HttpClient, name: str, data: dict) -> tuple[int, dict]:
    response = http.post(reverse(name), data=json.dumps(data), content_type="application/json")
    # django-axes answers the failure that locks an account with its own page, not JSON.
    json_answer = response["Content-Type"] == "application/json"
    return response.status_code, response.json() if json_answer else {"page": response.text}


def _register(http: HttpClient, key: SoftAuthenticator, *, name: str = "Blue key", origin: str = ORIGIN):
    status, options = _post(http, "accounts:passkey_register_options", {"name": name})
    assert status == HTTPStatus.OK, options
    return _post(http, "accounts:passkey_register", {"credential": key.create(options, origin=origin)})


def _signed_in(user: User, *, methods: list[str] | None = None) -> HttpClient:
    """A browser signed in as ``user`` (by a password, unless ``methods`` say otherwise)."""
    http = HttpClient()
    http.force_login(user)
    if methods:
        session = http.session
        session[METHODS_KEY] = methods
        session.save()
    return http


STEPPED_UP = ["pwd", "hwk", "mfa"]


def _enrolled(user: User, **key_options) -> SoftAuthenticator:
    key = SoftAuthenticator(**key_options)
    status, body = _register(_signed_in(user), key)
    assert status == HTTPStatus.OK, body
    return key


def _pending(user: User, *, next_url: str = "/time/") -> HttpClient:
    """A browser whose password step for ``user`` is done, the second factor to come."""
    http = HttpClient()
    session = http.session
    session[PENDING_KEY] = {
        "user": user.pk,
        "methods": ["pwd"],
        "next": next_url,
        "until": int(time.time()) + 300,
    }
    session.save()
    return http


def _answer(http: HttpClient, credential: dict, *, purpose: str = "verify") -> tuple[int, dict]:
    return _post(http, "accounts:passkey_authenticate", {"purpose": purpose, "credential": credential})


def _prove(
    http: HttpClient, key: SoftAuthenticator, *, purpose: str = "verify", next_url: str = "", **answer
):
    status, options = _post(http, "accounts:passkey_authenticate_options", {"purpose": purpose})
    assert status == HTTPStatus.OK, options
    credential = key.get(options, origin=answer.pop("origin", ORIGIN), **answer)
    return _post(
        http,
        "accounts:passkey_authenticate",
        {"purpose": purpose, "credential": credential, "next": next_url},
    )


def test_the_relying_party_is_the_issuer_or_the_configured_origin(settings):
    settings.OIDC_ISSUER = "https://id.abcinc.example/"
    assert passkeys.relying_party().id == "id.abcinc.example"
    assert passkeys.relying_party().origin == "https://id.abcinc.example"
    settings.WEBAUTHN_ORIGIN = "http://localhost:8123"
    assert passkeys.relying_party().id == "localhost"
    assert passkeys.relying_party().origin == "http://localhost:8123"


def test_a_signed_in_person_registers_a_named_passkey(user):
    http, key = _signed_in(user), SoftAuthenticator()
    status, options = _post(http, "accounts:passkey_register_options", {"name": "Blue key"})
    assert status == HTTPStatus.OK
    assert options["rp"] == {"id": "testserver", "name": "ABC Identity"}
    assert options["attestation"] == "none"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert [param["alg"] for param in options["pubKeyCredParams"]] == [-7, -8, -257]
    assert options["user"]["name"] == user.email and options["excludeCredentials"] == []
    status, body = _post(
        http, "accounts:passkey_register", {"credential": key.create(options, origin=ORIGIN)}
    )
    # A first second factor comes with recovery codes, shown once.
    assert (status, body) == (HTTPStatus.OK, {"redirect": reverse("accounts:passkey_recovery_codes")})
    shown = http.get(body["redirect"])
    assert shown.status_code == HTTPStatus.OK and len(shown.context["codes"]) == 10
    assert shown.context["continue_url"] == reverse("accounts:mfa_factors")
    assert RecoveryCode.objects.filter(user=user).count() == 10
    assert http.get(body["redirect"]).status_code == HTTPStatus.FOUND
    passkey = Passkey.objects.get(user=user)
    assert passkey.name == "Blue key" and passkey.credential_id == b64url(key.credential_id)
    assert passkey.sign_count == 0 and passkey.transports == ["usb"] and passkey.backed_up is False
    assert AuditEntry.objects.filter(action="mfa.passkey.enrol", target_id=str(user.pk)).exists()
    # The next registration excludes the passkey already there, so one key is not registered twice.
    status, options = _post(http, "accounts:passkey_register_options", {"name": "Laptop"})
    assert [c["id"] for c in options["excludeCredentials"]] == [passkey.credential_id]


def test_a_synced_passkey_is_kept_as_backed_up(user):
    _enrolled(user, backed_up=True)
    assert Passkey.objects.get(user=user).backed_up is True


@pytest.mark.parametrize(
    ("name", "error"),
    [("", "Give the passkey a name"), ("x" * 61, "at most 60 characters"), ("Blue key", "already have")],
)
def test_a_passkey_needs_a_name_of_its_own(user, name, error):
    _enrolled(user)
    status, body = _post(
        _signed_in(user, methods=STEPPED_UP), "accounts:passkey_register_options", {"name": name}
    )
    assert status == HTTPStatus.BAD_REQUEST and error in body["error"] and body["field"] == "name"


def test_a_registration_from_another_origin_or_for_another_site_is_refused(user):
    http = _signed_in(user)
    status, body = _register(http, SoftAuthenticator(), origin="https://evil.example")
    assert status == HTTPStatus.BAD_REQUEST and "could not be registered" in body["error"]
    _, options = _post(http, "accounts:passkey_register_options", {"name": "Blue key"})
    credential = SoftAuthenticator().create(options, origin=ORIGIN, rp_id="evil.example")
    status, body = _post(http, "accounts:passkey_register", {"credential": credential})
    assert status == HTTPStatus.BAD_REQUEST and "could not be registered" in body["error"]
    assert not Passkey.objects.exists()


def test_an_expired_or_reused_registration_challenge_is_refused(user, monkeypatch):
    http, key = _signed_in(user), SoftAuthenticator()
    _, options = _post(http, "accounts:passkey_register_options", {"name": "Blue key"})
    credential = key.create(options, origin=ORIGIN)
    now = time.time()
    monkeypatch.setattr(passkeys.time, "time", lambda: now + passkeys.CHALLENGE_SECONDS + 1)
    status, body = _post(http, "accounts:passkey_register", {"credential": credential})
    assert status == HTTPStatus.BAD_REQUEST and body["error"] == "The passkey request expired: start again."
    monkeypatch.undo()
    # The expired challenge was taken out: the same answer again finds nothing to answer.
    status, body = _post(http, "accounts:passkey_register", {"credential": credential})
    assert status == HTTPStatus.BAD_REQUEST and "no passkey request" in body["error"]
    assert not Passkey.objects.exists()


def test_a_pending_sign_in_enrols_a_required_passkey_and_is_signed_in(user, settings):
    settings.MFA_POLICY = "tests.accounts.test_mfa_passkeys.always"
    http = _pending(user, next_url="/time/")
    status, body = _register(http, SoftAuthenticator())
    assert (status, body) == (HTTPStatus.OK, {"redirect": reverse("accounts:passkey_recovery_codes")})
    assert http.get(body["redirect"]).context["continue_url"] == "/time/"
    assert http.session["_auth_user_id"] == str(user.pk)
    assert http.session[METHODS_KEY] == ["pwd", "hwk", "mfa"] and http.session[AUTH_TIME_KEY]
    assert PENDING_KEY not in http.session


def test_a_password_alone_adds_no_passkey_to_an_account_that_has_a_factor(user):
    _enrolled(user)
    status, body = _post(_pending(user), "accounts:passkey_register_options", {"name": "Thief's key"})
    assert status == HTTPStatus.FORBIDDEN and "sign in again" in body["error"]
    status, body = _post(HttpClient(), "accounts:passkey_register_options", {"name": "Key"})
    assert status == HTTPStatus.FORBIDDEN


def test_the_second_step_with_a_passkey_signs_in(user):
    key = _enrolled(user)
    http = _pending(user, next_url="/time/")
    _, options = _post(http, "accounts:passkey_authenticate_options", {"purpose": "verify"})
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(key.credential_id)]
    assert options["userVerification"] == "preferred" and options["rpId"] == "testserver"
    credential = key.get(options, origin=ORIGIN)
    status, body = _post(
        http, "accounts:passkey_authenticate", {"purpose": "verify", "credential": credential}
    )
    assert (status, body) == (HTTPStatus.OK, {"redirect": "/time/"})
    assert http.session["_auth_user_id"] == str(user.pk)
    assert http.session[METHODS_KEY] == ["pwd", "hwk", "mfa"]
    passkey = Passkey.objects.get(user=user)
    assert passkey.sign_count == 1 and passkey.last_used_at is not None


def test_a_synced_passkey_is_a_software_key(user):
    key = _enrolled(user, backed_up=True)
    http = _pending(user)
    assert _prove(http, key)[0] == HTTPStatus.OK
    assert http.session[METHODS_KEY] == ["pwd", "swk", "mfa"]


def _failures(user: User) -> int:
    return sum(
        AccessAttempt.objects.filter(username=user.email).values_list("failures_since_start", flat=True)
    )


def test_someone_elses_passkey_is_refused_in_the_second_step_and_counted(user, staff_user):
    others = _enrolled(staff_user)
    _enrolled(user)
    http = _pending(user)
    _, options = _post(http, "accounts:passkey_authenticate_options", {"purpose": "verify"})
    credential = others.get(options, origin=ORIGIN)
    status, body = _post(
        http, "accounts:passkey_authenticate", {"purpose": "verify", "credential": credential}
    )
    assert (
        status == HTTPStatus.BAD_REQUEST
        and body["error"] == "This passkey is not registered to your account."
    )
    assert "_auth_user_id" not in http.session
    failure = AuditEntry.objects.get(action="security.mfa.failure")
    assert failure.target_id == str(user.pk) and (failure.details or {})["factor"] == "passkey"
    assert _failures(user) == 1


def test_an_unknown_passkey_is_refused(user):
    _enrolled(user)
    status, body = _prove(_pending(user), SoftAuthenticator())
    assert status == HTTPStatus.BAD_REQUEST and body["error"] == "This passkey is not registered here."
    assert _failures(user) == 1


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"origin": "https://evil.example"}, "answered for another site"),
        ({"rp_id": "evil.example"}, "answered for another site"),
        ({"count": 0}, "went backwards"),
    ],
)
def test_an_answer_for_another_site_or_from_a_copied_key_is_refused(user, answer, error):
    key = _enrolled(user)
    assert _prove(_pending(user), key)[0] == HTTPStatus.OK  # the count is now 1
    http = _pending(user)
    status, body = _prove(http, key, **answer)
    assert status == HTTPStatus.BAD_REQUEST and error in body["error"]
    assert "_auth_user_id" not in http.session
    assert Passkey.objects.get(user=user).sign_count == 1


def test_an_expired_or_reused_authentication_challenge_is_refused(user, monkeypatch):
    key = _enrolled(user)
    http = _pending(user)
    _, options = _post(http, "accounts:passkey_authenticate_options", {"purpose": "verify"})
    credential = key.get(options, origin=ORIGIN)
    now = time.time()
    monkeypatch.setattr(passkeys.time, "time", lambda: now + passkeys.CHALLENGE_SECONDS + 1)
    status, body = _post(
        http, "accounts:passkey_authenticate", {"purpose": "verify", "credential": credential}
    )
    assert status == HTTPStatus.BAD_REQUEST and "expired" in body["error"]
    monkeypatch.undo()
    _, options = _post(http, "accounts:passkey_authenticate_options", {"purpose": "verify"})
    credential = key.get(options, origin=ORIGIN)
    assert (
        _post(http, "accounts:passkey_authenticate", {"purpose": "verify", "credential": credential})[0]
        == 200
    )
    # The same answer again, in the same (now signed-in) browser: its challenge is spent.
    status, body = _post(
        http, "accounts:passkey_authenticate", {"purpose": "verify", "credential": credential}
    )
    assert status == HTTPStatus.BAD_REQUEST and "no passkey request" in body["error"]


def test_failed_passkeys_lock_the_account_like_wrong_passwords(user, password, settings):
    _enrolled(user)
    http = _pending(user)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _prove(http, SoftAuthenticator())
    status, body = _post(http, "accounts:passkey_authenticate_options", {"purpose": "verify"})
    assert status == HTTPStatus.OK
    status, body = _prove(http, SoftAuthenticator())
    assert status == HTTPStatus.TOO_MANY_REQUESTS and "Too many failed sign-ins" in body["error"]
    response = HttpClient().post("/login/", {"username": user.email, "password": password})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_a_passkey_alone_signs_in_without_a_password(user):
    key = _enrolled(user)
    http = HttpClient()
    _, options = _post(http, "accounts:passkey_authenticate_options", {"purpose": "sign_in"})
    assert options["allowCredentials"] == []
    credential = key.get(options, origin=ORIGIN)
    body = {"purpose": "sign_in", "credential": credential, "next": "/account/"}
    status, answer = _post(http, "accounts:passkey_authenticate", body)
    assert (status, answer) == (HTTPStatus.OK, {"redirect": "/account/"})
    assert http.session["_auth_user_id"] == str(user.pk)
    assert http.session[METHODS_KEY] == ["hwk", "mfa"]


def test_a_passwordless_sign_in_goes_nowhere_but_here(user):
    key = _enrolled(user)
    http = HttpClient()
    status, answer = _prove(http, key, purpose="sign_in", next_url="https://evil.example/")
    assert (status, answer) == (HTTPStatus.OK, {"redirect": reverse("timesheets:week")})


def test_a_passkey_unverified_by_its_authenticator_is_one_factor(user, settings):
    key = _enrolled(user, user_verified=False)
    http = HttpClient()
    assert _prove(http, key, purpose="sign_in")[0] == HTTPStatus.OK
    assert http.session[METHODS_KEY] == ["hwk"]
    settings.MFA_POLICY = "tests.accounts.test_mfa_passkeys.always"
    http = HttpClient()
    status, answer = _prove(http, key, purpose="sign_in")
    assert status == HTTPStatus.BAD_REQUEST and "did not verify you" in answer["error"]
    assert "_auth_user_id" not in http.session


@pytest.mark.parametrize(
    "change", [{"is_active": False}, {"is_active": False, "deleted_at": "2026-01-01T00:00:00Z"}]
)
def test_a_blocked_or_deleted_person_cannot_sign_in_with_a_passkey(user, change):
    key = _enrolled(user)
    User.objects.filter(pk=user.pk).update(**change)
    http = HttpClient()
    status, answer = _prove(http, key, purpose="sign_in")
    assert status == HTTPStatus.BAD_REQUEST and "cannot sign in" in answer["error"]
    assert "_auth_user_id" not in http.session


def test_a_step_up_adds_the_passkey_to_the_session(user):
    key = _enrolled(user)
    http = _signed_in(user)
    status, answer = _prove(http, key, next_url="/authorize/?client_id=x")
    assert (status, answer) == (HTTPStatus.OK, {"redirect": "/authorize/?client_id=x"})
    assert http.session[METHODS_KEY] == ["pwd", "hwk", "mfa"]


def test_a_verify_without_a_sign_in_is_refused():
    status, body = _post(HttpClient(), "accounts:passkey_authenticate_options", {"purpose": "verify"})
    assert status == HTTPStatus.FORBIDDEN and body["error"] == "Your sign-in expired: sign in again."


def test_the_json_endpoints_need_the_csrf_token(user):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(user)
    url = reverse("accounts:passkey_register_options")
    body = json.dumps({"name": "Blue key"})
    assert http.post(url, body, content_type="application/json").status_code == HTTPStatus.FORBIDDEN
    http.get(reverse("accounts:login"))
    token = http.cookies["csrftoken"].value
    response = http.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == HTTPStatus.OK


def test_a_passkey_is_renamed_and_removed(user):
    _enrolled(user)
    http = _signed_in(user, methods=STEPPED_UP)
    passkey = Passkey.objects.get(user=user)
    rename = reverse("accounts:passkey_rename", args=[passkey.pk])
    response = http.post(rename, {"name": "Yubikey"}, HTTP_HX_REQUEST="true")
    assert response.status_code == HTTPStatus.OK and "Yubikey" in response.text
    assert '<section class="card passkeys" id="passkeys"' in response.text and "<html" not in response.text
    assert Passkey.objects.get(pk=passkey.pk).name == "Yubikey"
    response = http.post(rename, {"name": ""}, HTTP_HX_REQUEST="true")
    assert "Give the passkey a name" in response.text and 'aria-invalid="true"' in response.text
    response = http.post(reverse("accounts:passkey_remove", args=[passkey.pk]))
    assert response.status_code == HTTPStatus.FOUND and not Passkey.objects.exists()
    # With the last factor went the recovery codes: alone they are no way to sign in.
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action="mfa.passkey.remove", target_id=str(user.pk)).exists()


def test_the_last_factor_is_not_removed_when_mfa_is_required(user, staff_user, settings):
    _enrolled(user)
    settings.MFA_POLICY = "tests.accounts.test_mfa_passkeys.always"
    passkey = Passkey.objects.get(user=user)
    http = _signed_in(user, methods=STEPPED_UP)
    response = http.post(reverse("accounts:passkey_remove", args=[passkey.pk]), HTTP_HX_REQUEST="true")
    assert (
        "This is your last second factor" in response.text and Passkey.objects.filter(pk=passkey.pk).exists()
    )
    # Nobody removes or renames another person's passkey.
    other = _signed_in(staff_user, methods=STEPPED_UP)
    assert (
        other.post(reverse("accounts:passkey_remove", args=[passkey.pk])).status_code == HTTPStatus.NOT_FOUND
    )


def test_changing_the_passkeys_of_someone_with_a_factor_needs_that_factor_first(user):
    _enrolled(user)
    passkey = Passkey.objects.get(user=user)
    http = _signed_in(user)  # a password alone
    status, body = _post(http, "accounts:passkey_register_options", {"name": "Thief's key"})
    assert (
        status == HTTPStatus.FORBIDDEN and body["error"] == "Confirm it's you with your second factor first."
    )
    assert body["redirect"].startswith(reverse("accounts:mfa_verify") + "?next=")
    response = http.post(reverse("accounts:passkey_remove", args=[passkey.pk]))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))
    assert Passkey.objects.filter(pk=passkey.pk).exists()


def test_a_new_passkey_counts_as_a_factor_of_the_session_that_made_it(user):
    http = _signed_in(user)
    assert _register(http, SoftAuthenticator())[0] == HTTPStatus.OK
    assert http.session[METHODS_KEY] == ["pwd", "hwk", "mfa"]
    assert _register(http, SoftAuthenticator(), name="Laptop") == (HTTPStatus.OK, {"reload": True})
    assert Passkey.objects.filter(user=user).count() == 2
    assert RecoveryCode.objects.filter(user=user).count() == 10  # from the first passkey only


@pytest.mark.parametrize(
    ("next_url", "goes_on_to"),
    [("/authorize/?client_id=x", "/authorize/?client_id=x"), ("https://evil.example/", None)],
)
def test_a_step_up_without_a_factor_enrols_a_passkey_and_goes_on(user, next_url, goes_on_to):
    http, key = _signed_in(user), SoftAuthenticator()
    _, options = _post(http, "accounts:passkey_register_options", {"name": "Blue key"})
    body = {"credential": key.create(options, origin=ORIGIN), "next": next_url}
    status, answer = _post(http, "accounts:passkey_register", body)
    assert status == HTTPStatus.OK
    shown = http.get(answer["redirect"])
    assert shown.context["continue_url"] == (goes_on_to or reverse("accounts:mfa_factors"))


def test_the_sign_in_enrolment_verify_and_security_pages_offer_passkeys(user, settings):
    page = HttpClient().get(reverse("accounts:login")).text
    assert "Continue with a passkey" in page and 'data-passkey-purpose="sign_in"' in page
    assert "js/passkeys.js" in page and "<script>" not in page  # no inline script (CSP)
    settings.MFA_POLICY = "tests.accounts.test_mfa_passkeys.always"
    page = _pending(user).get(reverse("accounts:mfa_enrol")).text
    assert "Set up a passkey" in page and "Name of the new passkey" in page
    _enrolled(user)
    page = _pending(user).get(reverse("accounts:mfa_verify")).text
    assert "Use a passkey or security key" in page and 'data-passkey-purpose="verify"' in page
    page = _signed_in(user).get(reverse("accounts:mfa_factors")).text
    assert 'id="passkeys"' in page and "Blue key" in page and "Add a passkey" in page
