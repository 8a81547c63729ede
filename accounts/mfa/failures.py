"""Wrong second factors count toward the account's lockout, like wrong passwords.

django-axes counts them under the same key as the password's failures (the person's email,
``accounts.identifiers.axes_username``), so five wrong answers in all, whichever step they
were at, pause the account. We call axes' handler rather than sending Django's
``user_login_failed``: that signal also writes a "wrong password" entry to the audit log,
which would be untrue here; the entry written is ``security.mfa.failure``.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .. import metrics
from ..audit import audit_record
from ..identifiers import recorded_identifier
from ..models import User
from ..throttle import (
    client_address,
    login_attempts_per_account,
    login_failures_per_address,
    too_many,
)
from ..views import locked_out


def _credentials(user: User) -> dict[str, str]:
    return {"username": user.email}


def second_factor_locked(request: HttpRequest, user: User) -> HttpResponse | None:
    """The lockout page when ``user``'s account (or this address) is paused, else None.
    Counts this attempt first, as the sign-in form does, so parallel guesses stop too."""
    if AxesProxyHandler.is_locked(request, _credentials(user)):
        return locked_out(request)
    wait = login_failures_per_address().exceeded(client_address(request))
    wait = wait or login_attempts_per_account().take(recorded_identifier(user.email))
    if wait is None:
        return None
    response = render(request, "accounts/locked_out.html", {"minutes": max(1, -(-wait // 60))})
    return too_many(wait, response)


def second_factor_failed(request: HttpRequest, user: User, *, factor: str) -> HttpResponse | None:
    """Record a wrong ``factor`` ("totp", "recovery_code", "passkey") for ``user``: the
    lockout's count, the address's count, the audit log. The lockout page when that
    failure locked the account, else None."""
    audit_record(
        actor=None,
        action="security.mfa.failure",
        target=user,
        target_label=user.email,
        after={"path": request.path[:200]},
        details={"factor": factor},
    )
    metrics.sign_in_failed("second_factor")
    login_failures_per_address().hit(client_address(request))
    AxesProxyHandler.user_login_failed(sender=__name__, credentials=_credentials(user), request=request)
    if getattr(request, "axes_locked_out", False):
        return locked_out(request)
    return None


def second_factor_passed(user: User) -> None:
    """A right second factor: the account's pre-count of attempts starts again."""
    login_attempts_per_account().forget(recorded_identifier(user.email))
