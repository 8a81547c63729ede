"""The sign-in's second step (``mfa_verify``) and its required action (``mfa_enrol``).

Both pages serve two kinds of visitor: someone whose password was just right (a *pending*
sign-in, not signed in yet) and someone signed in who is asked for more (a step-up: an
application asked for a stronger ``acr``, or an account change needs a second factor; the
page was given ``?next=`` and perhaps ``?acr=``). Anyone else is sent to sign in.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ..models import User
from .context import (
    ACR_PHISHING_RESISTANT,
    ONE_TIME_CODE,
    PENDING_KEY,
    PendingSignIn,
    methods_add,
    pending_clear,
    pending_sign_in,
    sign_in_complete,
)
from .failures import second_factor_failed, second_factor_locked, second_factor_passed
from .forms import RecoveryCodeForm, TotpCodeForm
from .recovery import recovery_code_use, recovery_codes_remaining
from .selectors import has_second_factor, totp_devices
from .setup import totp_setup_step
from .totp import totp_verify, totp_wait_seconds


@dataclass(frozen=True)
class Step:
    """Who proves a second factor here, and where they go once they have."""

    user: User
    pending: PendingSignIn | None
    next_url: str
    acr: str

    @property
    def query(self) -> str:
        return urlencode({"next": self.next_url, **({"acr": self.acr} if self.acr else {})})


def local_url(url: str | None, default: str) -> str:
    """``url`` when it is a path on this site (never another host, scheme or ``//host``)."""
    if url and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return default


def _step(request: HttpRequest) -> Step | None:
    # A pending sign-in comes first: someone signed in who signs in again (prompt=login,
    # max_age, or as another person) finishes that sign-in, and goes where it said.
    pending = pending_sign_in(request)
    if pending is not None:
        return Step(user=pending.user, pending=pending, next_url=local_url(pending.next_url, "/"), acr="")
    if request.user.is_authenticated:
        next_url = local_url(request.GET.get("next"), reverse("accounts:home"))
        return Step(user=request.user, pending=None, next_url=next_url, acr=request.GET.get("acr", "")[:200])
    return None


def _no_step(request: HttpRequest) -> HttpResponse:
    if request.session.get(PENDING_KEY):
        pending_clear(request)
        messages.error(request, "Your sign-in took too long to finish. Sign in again.")
    return redirect("accounts:login")


def _passed(request: HttpRequest, step: Step, methods: list[str]) -> HttpResponse:
    second_factor_passed(step.user)
    if step.pending is not None:
        sign_in_complete(request, step.user, [*step.pending.methods, *methods])
    else:
        methods_add(request, methods)
    return redirect(step.next_url)


@dataclass
class VerifyForms:
    totp: TotpCodeForm | None
    recovery: RecoveryCodeForm | None


def _verify_forms(request: HttpRequest, step: Step) -> VerifyForms:
    """The code forms this person may use here: none when only a passkey will do."""
    if step.acr == ACR_PHISHING_RESISTANT:
        return VerifyForms(totp=None, recovery=None)
    posted = request.POST.get("factor") if request.method == "POST" else None
    totp = None
    if totp_devices(step.user).exists():
        totp = TotpCodeForm(request.POST if posted == "totp" else None)
    recovery = None
    if recovery_codes_remaining(step.user):
        recovery = RecoveryCodeForm(request.POST if posted == "recovery" else None)
    return VerifyForms(totp=totp, recovery=recovery)


def _totp_attempt(request: HttpRequest, step: Step, form: TotpCodeForm) -> HttpResponse | None:
    if not form.is_valid():
        return None
    if refused := second_factor_locked(request, step.user):
        return refused
    if wait := totp_wait_seconds(user=step.user):
        form.add_error(
            "code", f"Too many wrong codes in a row: wait {wait} second{pluralize(wait)}, then try again."
        )
        return None
    if totp_verify(user=step.user, code=form.cleaned_data["code"]):
        return _passed(request, step, [ONE_TIME_CODE])
    form.wrong()
    return second_factor_failed(request, step.user, factor="totp")


def _recovery_attempt(request: HttpRequest, step: Step, form: RecoveryCodeForm) -> HttpResponse | None:
    if not form.is_valid():
        return None
    if refused := second_factor_locked(request, step.user):
        return refused
    remaining = recovery_code_use(user=step.user, code=form.cleaned_data["recovery_code"])
    if remaining is None:
        form.wrong()
        return second_factor_failed(request, step.user, factor="recovery_code")
    response = _passed(request, step, [ONE_TIME_CODE])
    advice = " Make new ones on your account's security page." if remaining <= 3 else ""
    messages.warning(
        request,
        f"You used a recovery code; it no longer works. {remaining} unused code{pluralize(remaining)} "
        f"remain{pluralize(remaining, 's,')}.{advice}",
    )
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a sign-in, or a step-up: a code from an authenticator app, a
    passkey, or a recovery code (``?acr=phr``: a passkey only)."""
    step = _step(request)
    if step is None:
        return _no_step(request)
    if not has_second_factor(step.user):
        return redirect(f"{reverse('accounts:mfa_enrol')}?{step.query}")
    forms = _verify_forms(request, step)
    if request.method == "POST":
        factor = request.POST.get("factor")
        outcome = None
        if factor == "totp" and forms.totp is not None:
            outcome = _totp_attempt(request, step, forms.totp)
        elif factor == "recovery" and forms.recovery is not None:
            outcome = _recovery_attempt(request, step, forms.recovery)
        if outcome is not None:
            return outcome
    context = {
        "step": step,
        "mfa_user": step.user,
        "next_url": step.next_url,
        "acr": step.acr,
        "passkey_only": step.acr == ACR_PHISHING_RESISTANT,
        "totp_form": forms.totp,
        "recovery_form": forms.recovery,
        "recovery_open": bool(forms.recovery is not None and forms.recovery.errors),
    }
    return render(request, "accounts/mfa/verify.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """The required action: a person who must use a second factor and has none enrols one
    (an authenticator app here, or a passkey), keeps their recovery codes, and goes on
    signed in. Someone signed in reaches it for a step-up they have no factor for."""
    step = _step(request)
    if step is None:
        return _no_step(request)
    if has_second_factor(step.user):
        # Enrolling is no way round proving the factor one has.
        return redirect(f"{reverse('accounts:mfa_verify')}?{step.query}")
    passkey_only = step.acr == ACR_PHISHING_RESISTANT
    setup = None if passkey_only else totp_setup_step(request, step.user, actor=step.user)
    if setup is not None and setup.confirmed:
        second_factor_passed(step.user)
        if step.pending is not None:
            sign_in_complete(request, step.user, [*step.pending.methods, ONE_TIME_CODE])
        else:
            methods_add(request, [ONE_TIME_CODE])
        return render(
            request, "accounts/mfa/recovery_codes.html", {"codes": setup.codes, "continue_url": step.next_url}
        )
    context = {
        "step": step,
        "mfa_user": step.user,
        "next_url": step.next_url,
        "acr": step.acr,
        "setup": setup,
        "passkey_only": passkey_only,
    }
    return render(request, "accounts/mfa/enrol.html", context)
