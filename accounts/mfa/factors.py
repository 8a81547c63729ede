"""Rules every factor's removal follows, whichever kind it is (an authenticator app here,
a passkey in the passkeys' module): the last factor of a person who must use MFA stays, and
recovery codes go with the last factor (alone they are not a way to sign in)."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from ..models import User
from .models import Passkey, RecoveryCode
from .policy import mfa_required
from .selectors import has_second_factor

LAST_FACTOR_REFUSAL = (
    "This is your last second factor, and your organisation requires one to sign in. "
    "Add another authenticator app or a passkey first, then remove this one."
)


def factor_count(user: User) -> int:
    """Confirmed authenticator apps and passkeys (recovery codes are not a factor)."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).count()
        + Passkey.objects.filter(user=user).count()
    )


def factor_removal_refusal(user: User) -> str | None:
    """Why one of ``user``'s factors may not be removed now, or None when it may."""
    if factor_count(user) <= 1 and mfa_required(user):
        return LAST_FACTOR_REFUSAL
    return None


def factor_removed(*, user: User) -> None:
    """After a factor was removed (inside its service's transaction): with none left, the
    recovery codes go too; the next first factor comes with new ones."""
    if not has_second_factor(user):
        RecoveryCode.objects.filter(user=user).delete()
