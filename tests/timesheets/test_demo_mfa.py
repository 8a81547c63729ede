"""seed_demo and multi-factor sign-in: off on a new database, with a hint to turn it on;
left as it is when someone did; the Timesheets Mobile app does not ask on its own."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from authz.mfa import client_requires_mfa, mfa_policy_set, mfa_required
from authz.models import MfaPolicy
from clients.models import Client
from timesheets.demo import MOBILE_CLIENT_ID

pytestmark = pytest.mark.django_db
HINT = "MFA: off. Turn on 'required for staff' at /dashboard/mfa/ (README: Multi-factor sign-in)."


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--password", "Demo-password-2026", stdout=out)
    return out.getvalue()


def test_the_demo_leaves_mfa_off_and_says_how_to_turn_it_on():
    output = _seed()
    assert HINT in output.splitlines()
    admin = User.objects.get(email="admin@abcinc.example")
    assert mfa_required(admin) is False
    assert client_requires_mfa(Client.objects.get(client_id=MOBILE_CLIENT_ID)) is False


def test_seeding_again_keeps_a_policy_someone_turned_on():
    _seed()
    mfa_policy_set(actor=None, mode=MfaPolicy.Mode.STAFF)
    output = _seed()
    assert HINT not in output
    assert "MFA: required for staff (change it at /dashboard/mfa/)." in output.splitlines()
    assert mfa_required(User.objects.get(email="admin@abcinc.example")) is True
    assert mfa_required(User.objects.get(email="alice@abcinc.example")) is False


def test_seeding_again_puts_the_mobile_app_back_to_not_asking():
    _seed()
    Client.objects.filter(client_id=MOBILE_CLIENT_ID).update(require_mfa=True)
    _seed()
    assert Client.objects.get(client_id=MOBILE_CLIENT_ID).require_mfa is False
