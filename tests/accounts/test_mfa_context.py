"""What a session records of how its person signed in: RFC 8176 amr, acr, auth_time."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from accounts.mfa import context
from accounts.mfa.context import (
    ACR_MFA,
    ACR_PASSWORD,
    ACR_PHISHING_RESISTANT,
    acr_met,
    acr_of,
    amr_with_mfa,
)


def test_a_password_and_a_code_are_multi_factor():
    assert amr_with_mfa(["otp", "pwd"]) == ["pwd", "otp", "mfa"]
    assert amr_with_mfa(["pwd"]) == ["pwd"]
    assert amr_with_mfa(["pwd", "pwd"]) == ["pwd"]


def test_a_passkey_alone_is_multi_factor_only_when_verified_as_such():
    assert amr_with_mfa(["swk", "mfa"]) == ["swk", "mfa"]
    assert amr_with_mfa(["hwk"]) == ["hwk"]


def test_unknown_methods_are_not_recorded():
    assert amr_with_mfa(["pwd", "face", "<script>"]) == ["pwd"]


@pytest.mark.parametrize(
    ("methods", "met"),
    [
        (["pwd"], {ACR_PASSWORD}),
        (["pwd", "otp"], {ACR_PASSWORD, ACR_MFA}),
        (["swk", "mfa"], {ACR_PASSWORD, ACR_MFA, ACR_PHISHING_RESISTANT}),
        (["pwd", "hwk"], {ACR_PASSWORD, ACR_MFA, ACR_PHISHING_RESISTANT}),
        ([], set()),
    ],
)
def test_which_acr_a_sign_in_meets(methods, met):
    assert {acr for acr in context.ACR_VALUES if acr_met(acr, methods)} == met
    assert not acr_met("urn:unknown", methods)


def test_the_first_requested_acr_met_is_stated_else_the_strongest():
    assert acr_of(["pwd", "otp"], [ACR_PHISHING_RESISTANT, ACR_MFA]) == ACR_MFA
    assert acr_of(["pwd", "otp"], ["urn:unknown"]) == ACR_MFA
    assert acr_of(["pwd"]) == ACR_PASSWORD
    assert acr_of([]) is None


def _request(user):
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.user = user
    return request


def test_a_pending_sign_in_expires(user, monkeypatch):
    request = _request(user)
    context.pending_begin(request, user, methods=["pwd"], next_url="/time/")
    pending = context.pending_sign_in(request)
    assert pending is not None and pending.user == user and pending.next_url == "/time/"
    monkeypatch.setattr(time, "time", lambda: 10**11)
    assert context.pending_sign_in(request) is None


def test_a_pending_sign_in_of_a_blocked_person_is_void(user):
    request = _request(user)
    context.pending_begin(request, user, methods=["pwd"], next_url="/")
    user.is_active = False
    user.save()
    assert context.pending_sign_in(request) is None


def test_a_step_up_adds_methods_and_renews_auth_time(user):
    request = _request(user)
    request.session[context.METHODS_KEY] = ["pwd"]
    request.session[context.AUTH_TIME_KEY] = 1
    context.methods_add(request, ["otp"])
    auth = context.session_authentication(request)
    assert auth.amr == ["pwd", "otp", "mfa"] and auth.acr == ACR_MFA
    assert auth.auth_time is not None and auth.auth_time > 1
