"""The account's security page (``/account/security/``): a person's own factors.

Listing them needs a signed-in session; changing them (adding an app, removing one, new
recovery codes) needs a session that proved a second factor when the person has one, so a
browser left signed in with a password alone cannot swap the factors out.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..dashboard import ConfirmForm, HtmxHttpRequest, SignedInRequest, navigate
from ..decorators import login_required
from .context import ACR_MFA, ONE_TIME_CODE, methods_add, session_authentication
from .recovery import recovery_codes_generate, recovery_codes_remaining
from .selectors import has_second_factor, totp_devices
from .setup import totp_setup_step
from .totp import TotpRemovalRefused, totp_remove

REGENERATE_CONSEQUENCE = "I understand that my current recovery codes stop working."


def _step_up(request: SignedInRequest) -> HttpResponse | None:
    """Send a session without a second factor to prove one first (when the person has one)."""
    if not has_second_factor(request.user) or session_authentication(request).meets(ACR_MFA):
        return None
    back = request.get_full_path() if request.method == "GET" else reverse("accounts:mfa_factors")
    return redirect(f"{reverse('accounts:mfa_verify')}?{urlencode({'next': back, 'acr': ACR_MFA})}")


@never_cache
@require_GET
@login_required
def mfa_factors(request: SignedInRequest) -> HttpResponse:
    user = request.user
    context = {
        "totp_devices": totp_devices(user),
        "recovery_remaining": recovery_codes_remaining(user),
        "has_factor": has_second_factor(user),
        "mfa_user": user,
    }
    return render(request, "accounts/mfa/factors.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def mfa_totp_add(request: SignedInRequest) -> HttpResponse:
    """Add an authenticator app; the first factor comes with recovery codes, shown once."""
    if refused := _step_up(request):
        return refused
    setup = totp_setup_step(request, request.user, actor=request.user)
    if setup.confirmed:
        # The code just typed is a second factor this session proved.
        methods_add(request, [ONE_TIME_CODE])
        if setup.codes:
            context = {"codes": setup.codes, "continue_url": reverse("accounts:mfa_factors")}
            return render(request, "accounts/mfa/recovery_codes.html", context)
        messages.success(request, "Authenticator app added.")
        return redirect("accounts:mfa_factors")
    return render(request, "accounts/mfa/totp_setup.html", {"setup": setup})


@require_POST
@login_required
def mfa_totp_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    if refused := _step_up(request):
        return refused
    device = get_object_or_404(totp_devices(request.user), pk=pk)
    try:
        totp_remove(actor=request.user, device=device)
    except TotpRemovalRefused as refusal:
        messages.error(request, f"The authenticator app was not removed. {refusal}")
    else:
        messages.success(request, "Authenticator app removed. Its codes no longer work.")
    return navigate(request, "accounts:mfa_factors")


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def mfa_recovery_codes(request: SignedInRequest) -> HttpResponse:
    """New recovery codes (after a ticked confirmation): the old ones stop working."""
    if refused := _step_up(request):
        return refused
    if not has_second_factor(request.user):
        messages.error(request, "Recovery codes come with a second factor: add an authenticator app first.")
        return redirect("accounts:mfa_factors")
    form = ConfirmForm(request.POST if request.method == "POST" else None, consequence=REGENERATE_CONSEQUENCE)
    if request.method == "POST" and form.is_valid():
        codes = recovery_codes_generate(actor=request.user, user=request.user)
        context = {"codes": codes, "continue_url": reverse("accounts:mfa_factors"), "regenerated": True}
        return render(request, "accounts/mfa/recovery_codes.html", context)
    context = {"form": form, "remaining": recovery_codes_remaining(request.user)}
    return render(request, "accounts/mfa/recovery_regenerate.html", context)
