"""Authenticator apps (RFC 6238 TOTP): enrolment, the codes they give, removal.

The device is django-otp's ``TOTPDevice`` (SHA-1, 6 digits, 30-second steps, one step of
clock skew either way). It remembers the step of the last code it accepted (``last_t``) and
accepts only later ones, so a code is never good twice. An enrolment starts as an
unconfirmed device and becomes a factor only when its first code is right; half-way
enrolments never count (``selectors.totp_devices``) and are deleted when stale.
"""

from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..audit import audit_record
from ..models import User
from .factors import factor_removal_refusal, factor_removed
from .selectors import has_second_factor

# How long an enrolment may wait for its first code before it is cleaned up.
UNCONFIRMED_LIFETIME = timedelta(minutes=15)
DEVICE_NAME = "Authenticator app"


class TotpRemovalRefused(Exception):
    """Removing this authenticator app would leave a person who must use MFA without a factor."""


@dataclass(frozen=True)
class Provisioning:
    """What an authenticator app needs: the otpauth:// URI (as a QR code) or the secret typed in."""

    uri: str
    secret: str
    qr_svg: SafeString


@transaction.atomic
def totp_unconfirmed_clean() -> int:
    """Delete every enrolment that was never confirmed within ``UNCONFIRMED_LIFETIME``."""
    stale = TOTPDevice.objects.filter(confirmed=False, created_at__lt=timezone.now() - UNCONFIRMED_LIFETIME)
    deleted, _ = stale.delete()
    return deleted


@transaction.atomic
def totp_enrol_begin(*, user: User) -> TOTPDevice:
    """A new unconfirmed authenticator app for ``user`` (a fresh secret); the person's
    earlier unconfirmed ones, and anyone's stale ones, are deleted."""
    totp_unconfirmed_clean()
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(
        user=user, name=DEVICE_NAME, confirmed=False, tolerance=1, digits=6, step=30
    )


def totp_pending_device(*, user: User, pk: int | None) -> TOTPDevice | None:
    """The unconfirmed device ``pk`` of ``user`` that is still young enough to confirm."""
    if pk is None:
        return None
    return TOTPDevice.objects.filter(
        pk=pk,
        user=user,
        confirmed=False,
        created_at__gte=timezone.now() - UNCONFIRMED_LIFETIME,
    ).first()


def totp_provisioning(device: TOTPDevice) -> Provisioning:
    """The otpauth:// URI (issuer ``settings.MFA_TOTP_ISSUER``, the person's email), its
    QR code as inline SVG, and the secret in base32 for typing in."""
    issuer = str(settings.MFA_TOTP_ISSUER).replace(":", "")
    secret = b32encode(device.bin_key).decode()
    label = quote(f"{issuer}:{device.user.email}")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    uri = f"otpauth://totp/{label}?{query}"
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", title="QR code for your authenticator app"
    )
    # segno draws the code from the URI as path data: no text of ours is in the markup.
    return Provisioning(uri=uri, secret=secret, qr_svg=mark_safe(svg.replace("<svg ", '<svg role="img" ', 1)))  # noqa: S308


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "")


@transaction.atomic
def totp_enrol_confirm(*, actor: User, device: TOTPDevice, code: str) -> bool:
    """Confirm ``device`` with its first code. True when the code was right: the app is now
    one of the person's factors (audited ``mfa.totp.enrol``)."""
    locked = TOTPDevice.objects.select_for_update().filter(pk=device.pk, confirmed=False).first()
    if locked is None or not locked.verify_token(_normalised(code)):
        return False
    first = not has_second_factor(locked.user)
    locked.confirmed = True
    locked.save(update_fields=["confirmed"])
    device.confirmed = True
    audit_record(
        actor=actor,
        action="mfa.totp.enrol",
        target=locked.user,
        after={"device": locked.pk, "name": locked.name, "first_factor": first},
    )
    return True


@transaction.atomic
def totp_verify(*, user: User, code: str) -> bool:
    """Whether ``code`` is a current code of one of ``user``'s confirmed authenticator apps
    that was not accepted before. Each device is locked while it is checked, so that two
    requests with the same code cannot both succeed."""
    token = _normalised(code)
    if not token.isdigit():
        return False
    devices = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk")
    return any(device.verify_token(token) for device in devices)


def totp_wait_seconds(*, user: User) -> int:
    """Seconds until django-otp checks a code of ``user``'s apps again after wrong ones
    (a pause that doubles with each wrong code); 0 when one of them can check one now."""
    until = []
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        allowed, data = device.verify_is_allowed()
        if allowed:
            return 0
        until.append((data or {}).get("locked_until") or timezone.now())
    if not until:
        return 0
    return max(1, int((min(until) - timezone.now()).total_seconds()) + 1)


@transaction.atomic
def totp_remove(*, actor: User, device: TOTPDevice) -> None:
    """Remove a confirmed authenticator app, unless it is the last factor of a person who
    must use MFA (``TotpRemovalRefused`` with the reason)."""
    user = device.user
    reason = factor_removal_refusal(user)
    if reason:
        raise TotpRemovalRefused(reason)
    audit_record(
        actor=actor,
        action="mfa.totp.remove",
        target=user,
        before={"device": device.pk, "name": device.name},
    )
    device.delete()
    factor_removed(user=user)
