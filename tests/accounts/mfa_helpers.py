"""What the MFA tests share: an authenticator app's codes, computed as the app would."""

from __future__ import annotations

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

NEVER = "accounts.mfa.policy.never"
ALWAYS = "tests.accounts.mfa_helpers.always"


def always(user: User) -> bool:
    """An MFA_POLICY for tests: everyone must use a second factor."""
    return True


def steady_step() -> None:
    """Wait out the last seconds of a 30-second step, so that a test's codes are computed
    and checked within one step and which step each belongs to is certain."""
    remaining = 30 - time.time() % 30
    if remaining < 4:
        time.sleep(remaining + 0.1)


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code ``device``'s app shows now, or ``steps_ahead`` 30-second steps later (the
    server accepts one step either way, and never a step it has already accepted)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def confirmed_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
