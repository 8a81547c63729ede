"""Recovery codes: ten, single-use, stored only as keyed hashes, regenerable, emailed on use."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.core import mail
from django.test import Client as HttpClient

from accounts.mfa.context import METHODS_KEY
from accounts.mfa.models import RecoveryCode
from accounts.mfa.recovery import (
    recovery_code_use,
    recovery_codes_generate,
    recovery_codes_remaining,
)
from accounts.models import AuditEntry, User

from .mfa_helpers import NEVER, confirmed_device

pytestmark = pytest.mark.django_db
CODE = re.compile(r"^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$")


@pytest.fixture(autouse=True)
def _no_policy(settings):
    settings.MFA_POLICY = NEVER


def test_ten_codes_without_ambiguous_characters_stored_only_as_hashes(user):
    codes = recovery_codes_generate(actor=user, user=user)
    assert len(codes) == len(set(codes)) == 10
    assert all(CODE.match(code) for code in codes)
    stored = list(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10 and all(len(value) == 64 for value in stored)
    for code in codes:
        assert all(code not in value and code.replace("-", "") not in value for value in stored)
    entry = AuditEntry.objects.get(action="mfa.recovery.regenerate")
    assert not any(code in str(entry.after) + str(entry.details) for code in codes)


def test_the_same_code_hashes_differently_for_another_person(user, staff_user):
    codes = recovery_codes_generate(actor=user, user=user)
    # The other person's rows, made with the same codes, do not match them.
    assert recovery_code_use(user=staff_user, code=codes[0]) is None
    assert recovery_code_use(user=user, code=codes[0]) == 9


def test_a_code_works_once_and_is_marked_used(user, django_capture_on_commit_callbacks):
    codes = recovery_codes_generate(actor=user, user=user)
    with django_capture_on_commit_callbacks(execute=True):
        assert recovery_code_use(user=user, code=f"  {codes[3].upper()} ") == 9
    assert recovery_code_use(user=user, code=codes[3]) is None
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=False).count() == 1
    assert recovery_codes_remaining(user) == 9
    [message] = mail.outbox
    assert message.to == [user.email] and "9 unused codes remain" in message.body
    assert codes[3] not in message.body
    entry = AuditEntry.objects.get(action="mfa.recovery.use")
    assert entry.after == {"remaining": 9}


def test_typed_without_the_dash_it_still_works(user):
    codes = recovery_codes_generate(actor=user, user=user)
    assert recovery_code_use(user=user, code=codes[0].replace("-", "")) == 9


@pytest.mark.parametrize("typed", ["", "abcde-fghij-k", "abcde-fghi1", "ABCDE", "<script>"])
def test_anything_else_is_refused(user, typed):
    recovery_codes_generate(actor=user, user=user)
    assert recovery_code_use(user=user, code=typed) is None
    assert recovery_codes_remaining(user) == 10


def test_regenerating_replaces_every_code(user):
    old = recovery_codes_generate(actor=user, user=user)
    new = recovery_codes_generate(actor=user, user=user)
    assert not set(old) & set(new)
    assert all(recovery_code_use(user=user, code=code) is None for code in old)
    assert RecoveryCode.objects.filter(user=user).count() == 10


def test_codes_made_under_a_retired_secret_key_still_work(user, settings):
    codes = recovery_codes_generate(actor=user, user=user)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-test-secret-key"
    assert recovery_code_use(user=user, code=codes[0]) == 9


def _mfa_session(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    session = http.session
    session[METHODS_KEY] = ["pwd", "otp", "mfa"]
    session.save()
    return http


def test_regenerating_on_the_security_page_needs_the_box_ticked(user):
    confirmed_device(user)
    old = recovery_codes_generate(actor=user, user=user)
    http = _mfa_session(user)
    page = http.get("/account/security/recovery-codes/")
    assert "You have 10 unused recovery codes" in page.content.decode()
    unticked = http.post("/account/security/recovery-codes/", {})
    assert unticked.status_code == HTTPStatus.OK
    assert "This field is required" in unticked.content.decode()
    assert recovery_code_use(user=user, code=old[0]) == 9
    response = http.post("/account/security/recovery-codes/", {"confirm": "on"})
    shown = re.findall(r"<code>([a-z0-9-]{11})</code>", response.content.decode())
    assert len(shown) == 10 and not set(shown) & set(old)
    assert response["Cache-Control"].startswith("max-age=0")
    assert recovery_code_use(user=user, code=old[1]) is None
    assert recovery_code_use(user=user, code=shown[0]) == 9


def test_no_recovery_codes_without_a_factor(user_client, user):
    response = user_client.post("/account/security/recovery-codes/", {"confirm": "on"}, follow=True)
    assert "add an authenticator app first" in response.content.decode()
    assert not RecoveryCode.objects.filter(user=user).exists()
