"""Adding an authenticator app, as the enrolment page and the account's security page both
do it: a QR code for the app, then its first code confirms it.

The device being set up is remembered in the session, so reloading the page shows the same
QR code; a set-up left longer than ``totp.UNCONFIRMED_LIFETIME`` starts again with a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..models import User
from .forms import TotpCodeForm
from .recovery import recovery_codes_generate
from .selectors import has_second_factor
from .totp import Provisioning, totp_enrol_begin, totp_enrol_confirm, totp_pending_device, totp_provisioning

SETUP_DEVICE_KEY = "mfa_setup_device"
EXPIRED = "This set-up took too long and was started again: scan the new QR code, then type its code."
NOT_CONFIRMED = (
    "That code is not right. Check that the app shows the account you just added, "
    "and type the code it shows now."
)


@dataclass(frozen=True)
class SetupStep:
    """Where a set-up stands: the device and what the page shows, or ``confirmed`` (with
    ``codes``, the new recovery codes, when this was the person's first factor)."""

    device: TOTPDevice | None
    provisioning: Provisioning | None
    form: TotpCodeForm
    confirmed: bool = False
    codes: list[str] | None = None


def _begin(request: HttpRequest, user: User) -> TOTPDevice:
    device = totp_enrol_begin(user=user)
    request.session[SETUP_DEVICE_KEY] = device.pk
    return device


def totp_setup_step(request: HttpRequest, user: User, *, actor: User) -> SetupStep:
    """Show the set-up (GET), or check the first code (POST)."""
    pk = request.session.get(SETUP_DEVICE_KEY)
    device = totp_pending_device(user=user, pk=pk if isinstance(pk, int) else None)
    if request.method != "POST":
        device = device or _begin(request, user)
        return SetupStep(device=device, provisioning=totp_provisioning(device), form=TotpCodeForm())
    form = TotpCodeForm(request.POST)
    valid = form.is_valid()
    if device is None:
        device = _begin(request, user)
        form.add_error("code" if "code" not in form.errors else None, EXPIRED)
    elif valid:
        first = not has_second_factor(user)
        if totp_enrol_confirm(actor=actor, device=device, code=form.cleaned_data["code"]):
            request.session.pop(SETUP_DEVICE_KEY, None)
            codes = recovery_codes_generate(actor=actor, user=user) if first else None
            return SetupStep(device=None, provisioning=None, form=form, confirmed=True, codes=codes)
        form.add_error("code", NOT_CONFIRMED)
    return SetupStep(device=device, provisioning=totp_provisioning(device), form=form)
