"""Passkeys' endpoints: the JSON the browser's WebAuthn calls need (static/js/passkeys.js),
and renaming and removing one's passkeys on the account's security page.

Three ways in: registering (signed in, or a pending sign-in's required enrolment), a second
step or a step-up (``accounts:mfa_verify``), and a passwordless sign-in from the sign-in
page. Each JSON answer is ``{"redirect": url}``, ``{"reload": true}``, the options, or
``{"error": "..."}`` with a 4xx status.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ..dashboard import HtmxHttpRequest, SignedInRequest, navigate
from ..decorators import login_required
from ..json_input import JsonInputError, json_parse
from ..models import User
from .context import (
    ACR_MFA,
    MULTI_FACTOR,
    PendingSignIn,
    methods_add,
    pending_sign_in,
    session_authentication,
    sign_in_complete,
)
from .models import Passkey
from .passkey_failures import PasskeyError
from .passkeys import (
    SECOND_STEP,
    SIGN_IN,
    STEP_UP,
    passkey_authenticate,
    passkey_authentication_options,
    passkey_get,
    passkey_method,
    passkey_register,
    passkey_registration_options,
    passkey_remove,
    passkey_rename,
)
from .policy import mfa_required
from .selectors import has_second_factor

FRAGMENT = "accounts/mfa/_passkeys.html"
CODES_KEY = "passkey_recovery_codes"  # a first passkey's recovery codes, until shown
BODY_MAX = 64 * 1024  # an attestation with a certificate chain is a few kilobytes


def _error(message: str, status: int = HTTPStatus.BAD_REQUEST, **extra: str) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _refused(error: PasskeyError) -> JsonResponse:
    extra = {"redirect": error.redirect} if error.redirect else {}
    return _error(error.message, error.status, **extra, **({"field": error.field} if error.field else {}))


def _body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > BODY_MAX:
        raise PasskeyError("The passkey's answer is too large.")
    try:
        data = json_parse(request.body or b"{}")
    except JsonInputError as error:
        raise PasskeyError(f"The request is not JSON: {error}.") from error
    if not isinstance(data, dict):
        raise PasskeyError("The request is not a JSON object.")
    return data


def _step_up_needed(request: HttpRequest, user: User) -> bool:
    """Changing the factors of a person who has one needs a session that proved one, so
    that a browser left signed in with a password alone cannot swap them."""
    return has_second_factor(user) and not session_authentication(request).meets(ACR_MFA)


def _step_up_url() -> str:
    return f"{reverse('accounts:mfa_verify')}?{urlencode({'next': _back(), 'acr': ACR_MFA})}"


def _registering(request: HttpRequest) -> tuple[User, PendingSignIn | None]:
    """Who adds a passkey: the signed-in person, or a pending sign-in that must enrol a
    first factor (one who has a factor proves it first: a password alone adds none)."""
    if request.user.is_authenticated:
        user = request.user
        if _step_up_needed(request, user):
            raise PasskeyError(
                "Confirm it's you with your second factor first.",
                status=HTTPStatus.FORBIDDEN,
                redirect=_step_up_url(),
            )
        return user, None
    pending = pending_sign_in(request)
    if pending is not None and not has_second_factor(pending.user):
        return pending.user, pending
    raise PasskeyError("Your sign-in expired: sign in again.", status=HTTPStatus.FORBIDDEN)


def _local(request: HttpRequest, url: str) -> str | None:
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else None


@require_POST
@never_cache
def passkey_register_options(request: HttpRequest) -> JsonResponse:
    """``navigator.credentials.create()``'s options for a passkey named ``name``."""
    try:
        user, _ = _registering(request)
        name = str(_body(request).get("name", "")).strip()
        return JsonResponse(passkey_registration_options(request.session, user=user, name=name))
    except PasskeyError as error:
        return _refused(error)


@require_POST
@never_cache
def passkey_register_verify(request: HttpRequest) -> JsonResponse:
    """Keep the passkey the browser made; a pending enrolment is then signed in with it. A
    first factor's recovery codes are shown next (``passkey_recovery_codes``)."""
    try:
        user, pending = _registering(request)
        body = _body(request)
        passkey, codes = passkey_register(request.session, user=user, credential=body.get("credential"))
    except PasskeyError as error:
        return _refused(error)
    messages.success(request, f"Passkey “{passkey.name}” added.")
    method = passkey_method(passkey.backed_up)
    if pending is None:
        # Making the passkey proved the person holds it: a second factor this session has.
        methods_add(request, [method])
        # A step-up that had no factor to prove (accounts:mfa_enrol?next=...) goes on.
        next_url = _local(request, str(body.get("next", "")))
    else:
        sign_in_complete(request, user, [*pending.methods, method])
        next_url = pending.next_url or _landing(user)
    if codes:
        request.session[CODES_KEY] = {"codes": codes, "next": next_url or reverse("accounts:mfa_factors")}
        return JsonResponse({"redirect": reverse("accounts:passkey_recovery_codes")})
    return JsonResponse({"redirect": next_url} if next_url else {"reload": True})


@require_GET
@never_cache
@login_required
def passkey_recovery_codes(request: SignedInRequest) -> HttpResponse:
    """The recovery codes that came with a first passkey, shown once (taken out of the session)."""
    state = request.session.pop(CODES_KEY, None)
    if not isinstance(state, dict) or not state.get("codes"):
        return redirect("accounts:mfa_factors")
    context = {"codes": state["codes"], "continue_url": state.get("next") or reverse("accounts:mfa_factors")}
    return render(request, "accounts/mfa/recovery_codes.html", context)


def _proving(request: HttpRequest, purpose: str) -> tuple[str, User | None]:
    """What a passkey proves here: a passwordless sign-in, a pending sign-in's second
    step, or a signed-in person's step-up."""
    if purpose == SIGN_IN:
        return SIGN_IN, None
    pending = pending_sign_in(request)
    if pending is not None:
        return SECOND_STEP, pending.user
    if request.user.is_authenticated:
        return STEP_UP, request.user
    raise PasskeyError("Your sign-in expired: sign in again.", status=HTTPStatus.FORBIDDEN)


@require_POST
@never_cache
def passkey_authenticate_options(request: HttpRequest) -> JsonResponse:
    """``navigator.credentials.get()``'s options; ``purpose`` is ``sign_in`` (passwordless)
    or ``verify`` (a second step or a step-up)."""
    try:
        purpose, user = _proving(request, str(_body(request).get("purpose", "")))
        return JsonResponse(passkey_authentication_options(request.session, purpose=purpose, user=user))
    except PasskeyError as error:
        return _refused(error)


@require_POST
@never_cache
def passkey_authenticate_verify(request: HttpRequest) -> JsonResponse:
    """Check the passkey's answer, sign in (or step up), and say where to go next."""
    try:
        body = _body(request)
        purpose, user = _proving(request, str(body.get("purpose", "")))
        pending = pending_sign_in(request)
        proof = passkey_authenticate(request, purpose=purpose, user=user, credential=body.get("credential"))
    except PasskeyError as error:
        return _refused(error)
    person, next_url = proof.passkey.user, _local(request, str(body.get("next", "")))
    if purpose == STEP_UP:
        methods_add(request, [proof.method])
        return JsonResponse({"redirect": next_url or reverse("accounts:home")})
    if purpose == SECOND_STEP and pending is not None:
        sign_in_complete(request, person, [*pending.methods, proof.method])
        return JsonResponse({"redirect": pending.next_url or _landing(person)})
    if not proof.user_verified and mfa_required(person):
        # A passkey without its PIN or biometric is one factor; this person needs two.
        return _error(
            "Your passkey did not verify you (PIN or biometric): "
            "sign in with your password, then the passkey."
        )
    methods = [proof.method, *([MULTI_FACTOR] if proof.user_verified else [])]
    sign_in_complete(request, person, methods)
    return JsonResponse({"redirect": next_url or _landing(person)})


def _landing(user: User) -> str:
    """Where a sign-in without ``next`` lands (as the sign-in form's): staff the dashboard."""
    return reverse("accounts:dashboard") if user.is_staff else resolve_url(settings.LOGIN_REDIRECT_URL)


def _back() -> str:
    return reverse("accounts:mfa_factors")


def _after(
    request: SignedInRequest, *, notice: str = "", error: str = "", pk: int | None = None
) -> HttpResponse:
    """The passkeys fragment again (htmx), or back to the page with a message."""
    if getattr(request, "htmx", False):
        context = {"user": request.user, "notice": notice, "error": error, "error_pk": pk}
        return render(request, FRAGMENT, context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(_back())


def _own(request: SignedInRequest, pk: int) -> Passkey:
    try:
        return passkey_get(request.user, pk)
    except Passkey.DoesNotExist as error:
        raise Http404("No such passkey of yours.") from error


@require_POST
@login_required
def passkey_rename_view(request: SignedInRequest, pk: int) -> HttpResponse:
    passkey = _own(request, pk)
    name = request.POST.get("name", "").strip()
    try:
        passkey_rename(actor=request.user, passkey=passkey, name=name)
    except PasskeyError as error:
        return _after(request, error=error.message, pk=pk)
    return _after(request, notice=f"Passkey renamed “{name}”.")


@require_POST
@login_required
def passkey_remove_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """Remove a passkey, unless it is the last factor of someone who must have one."""
    passkey = _own(request, pk)
    if _step_up_needed(request, request.user):
        return navigate(cast(HtmxHttpRequest, request), _step_up_url())
    try:
        passkey_remove(actor=request.user, passkey=passkey)
    except PasskeyError as error:
        return _after(request, error=error.message, pk=pk)
    return _after(request, notice=f"Passkey “{passkey.name}” removed.")
