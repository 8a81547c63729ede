"""An administrator's reset of a person's second factors, and what the dashboard shows of
them before it: how many authenticator apps, passkeys and unused recovery codes they hold."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..audit import audit_record
from ..models import User
from .models import Passkey, RecoveryCode


@dataclass(frozen=True)
class FactorCounts:
    authenticator_apps: int
    passkeys: int
    recovery_codes_left: int

    @property
    def any(self) -> bool:
        return bool(self.authenticator_apps or self.passkeys or self.recovery_codes_left)


def factor_counts(user: User) -> FactorCounts:
    """What ``user`` can prove a second factor with: confirmed authenticator apps, passkeys
    and recovery codes not yet used."""
    return FactorCounts(
        authenticator_apps=TOTPDevice.objects.filter(user=user, confirmed=True).count(),
        passkeys=Passkey.objects.filter(user=user).count(),
        recovery_codes_left=RecoveryCode.objects.filter(user=user, used_at__isnull=True).count(),
    )


@transaction.atomic
def factors_reset(*, actor: User | None, user: User) -> FactorCounts:
    """Delete every second factor of ``user``: authenticator apps (an enrolment left half-way
    too), passkeys and recovery codes, used or not. Audited as ``mfa.reset`` with what was
    held. Returns that.

    Nothing else ends: their sessions and applications' tokens stay. At their next sign-in
    they are asked to enrol again when the policy requires a second factor, and need only
    their password when it does not.
    """
    held = factor_counts(user)
    TOTPDevice.objects.filter(user=user).delete()
    Passkey.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    audit_record(actor=actor, action="mfa.reset", target=user, before=asdict(held), after=None)
    return held
