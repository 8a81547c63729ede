"""The self-service pages: "Forgot password?", the page an emailed password link opens
(resets and invitations alike), changing one's password, one's signed-in browsers, and
confirming one's email.

Nobody is signed in by a link: it proves the mailbox, not the password, and signing in
once with the new password lets the browser's password manager save it.
"""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .dashboard import SignedInRequest
from .decorators import login_required
from .identifiers import login_identifier
from .models import UserSession
from .self_service import (
    VerificationFailed,
    browser_label,
    email_verification_limit,
    email_verification_send,
    email_verification_user,
    email_verify,
    link_lifetime,
    password_change,
    password_link_user,
    password_reset_limits,
    password_reset_request_later,
    password_set_from_link,
    session_rekey,
    sessions_end_others,
)
from .self_service_forms import PasswordChangeFormWithCurrent, PasswordForgotForm, PasswordSetForm
from .services import session_end
from .sessions import user_session_list
from .throttle import client_address, too_many


def _too_many(request: HttpRequest, wait: int) -> HttpResponse:
    response = render(request, "registration/too_many.html", {"minutes": max(1, -(-wait // 60))})
    return too_many(wait, response)


@require_http_methods(["GET", "POST"])
def password_forgot(request: HttpRequest) -> HttpResponse:
    """Ask for a reset link. Every valid request gets the same answer page, whether or not
    an account has that address."""
    form = PasswordForgotForm(request.POST or None)
    if request.method == "POST":
        by_address, by_email = password_reset_limits()
        wait = by_address.take(client_address(request))
        if wait is None and form.is_valid():
            email = login_identifier(form.cleaned_data["email"])
            wait = by_email.take(email)
            if wait is None:
                password_reset_request_later(email=email)
                return redirect("accounts:password_forgot_sent")
        if wait is not None:
            return _too_many(request, wait)
    return render(request, "registration/password_forgot.html", {"form": form})


@require_GET
def password_forgot_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "registration/password_forgot_sent.html",
        {"expires_in": link_lifetime(settings.PASSWORD_RESET_TIMEOUT)},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def password_set(request: HttpRequest, purpose: str, uidb64: str, token: str) -> HttpResponse:
    """The page a password link opens. A GET only shows the form (mail scanners that
    fetch links must not spend them); the POST sets the password."""
    user = password_link_user(purpose=purpose, uidb64=uidb64, token=token)
    if user is None:
        return render(
            request,
            "registration/password_link_invalid.html",
            {"invitation": purpose == "invitation"},
            status=HTTPStatus.BAD_REQUEST,
        )
    form = PasswordSetForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        if request.user.is_authenticated and request.user.pk == user.pk:
            # Its session is about to be ended with the others: end it properly here.
            logout(request)
        password_set_from_link(user=user, password=form.cleaned_data["new_password1"], purpose=purpose)
        messages.success(request, "Your password is set. Sign in with it.")
        return redirect("accounts:login")
    return render(
        request,
        "registration/password_set.html",
        {"form": form, "person": user, "invitation": purpose == "invitation"},
    )


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def password_change_view(request: SignedInRequest) -> HttpResponse:
    """Change one's password (the current one is required); other sessions end, this one
    stays signed in."""
    form = PasswordChangeFormWithCurrent(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        ended = password_change(
            user=request.user,
            password=form.cleaned_data["new_password1"],
            keep_session_key=request.session.session_key,
        )
        # The session's hash of the password changed: keep this browser signed in (under a
        # new session key, which its row follows).
        old_key = request.session.session_key
        update_session_auth_hash(request, request.user)
        session_rekey(old_key=old_key, new_key=request.session.session_key)
        notice = "Your password is changed."
        if ended:
            notice += f" {ended} other session{'s' if ended != 1 else ''} signed out."
        messages.success(request, notice)
        return redirect("accounts:home")
    return render(request, "registration/password_change.html", {"form": form})


@require_GET
@login_required
def session_list(request: SignedInRequest) -> HttpResponse:
    """The person's signed-in browsers, this one marked, each with a way to sign it out."""
    sessions = [
        {"row": row, "browser": browser_label(row.user_agent)} for row in user_session_list(user=request.user)
    ]
    context = {"sessions": sessions, "current": request.session.session_key}
    return render(request, "registration/sessions.html", context)


@require_POST
@login_required
def session_sign_out(request: SignedInRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(UserSession, pk=pk, user=request.user)  # anyone else's: 404
    if session.session_key == request.session.session_key:
        logout(request)
        return redirect("accounts:login")
    session_end(actor=request.user, session=session)
    messages.success(request, "That session is signed out.")
    return redirect("accounts:sessions")


@require_POST
@login_required
def sessions_sign_out_others(request: SignedInRequest) -> HttpResponse:
    ended = sessions_end_others(user=request.user, keep_session_key=request.session.session_key)
    messages.success(request, f"{ended} other session{'s' if ended != 1 else ''} signed out.")
    return redirect("accounts:sessions")


@require_POST
@login_required
def email_verify_send(request: SignedInRequest) -> HttpResponse:
    if request.user.email_verified:
        messages.info(request, "Your email is already confirmed.")
    elif (wait := email_verification_limit().take(str(request.user.pk))) is not None:
        return _too_many(request, wait)
    else:
        email_verification_send(user=request.user)
        messages.success(request, f"We sent a confirmation link to {request.user.email}.")
    return redirect("accounts:home")


@never_cache
@require_http_methods(["GET", "POST"])
def email_verify_view(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm an email from its link. GET asks for a click (mail scanners fetch links);
    POST confirms."""
    try:
        user = email_verification_user(token)
    except VerificationFailed as failure:
        return render(
            request,
            "registration/email_verify.html",
            {"failure": failure.reason},
            status=HTTPStatus.BAD_REQUEST,
        )
    if request.method == "POST":
        email_verify(user=user)
        return render(request, "registration/email_verify.html", {"verified": True, "email": user.email})
    return render(request, "registration/email_verify.html", {"email": user.email})
