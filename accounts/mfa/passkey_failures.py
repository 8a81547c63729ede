"""A passkey that fails to prove its person: refused with a reason, recorded, and counted.

A wrong answer for a known account counts toward that account's lockout as a wrong
password does: django-axes counts it under the same key (the person's email), and the
account's pre-count of attempts (``login_attempts_per_account``) stops parallel guesses.
We call axes' handler rather than send Django's ``user_login_failed``, which would also
write an untrue "wrong password" entry: the entry written is ``security.mfa.failure``. An
answer naming no account of ours counts against the address only.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings

from .. import metrics
from ..audit import audit_record
from ..identifiers import recorded_identifier
from ..models import User
from ..throttle import client_address, login_attempts_per_account, login_failures_per_address

FAILURE_EVENT = "security.mfa.failure"


class PasskeyError(Exception):
    """Why a passkey ceremony was refused, in words for the person (and its HTTP status)."""

    def __init__(
        self, message: str, *, status: int = HTTPStatus.BAD_REQUEST, redirect: str = "", field: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.redirect = redirect  # where to go first (to prove a second factor)
        self.field = field  # the form field the message is about


def _paused(seconds: int | None = None) -> PasskeyError:
    minutes = max(1, -(-seconds // 60)) if seconds else max(1, int(settings.AXES_COOLOFF_TIME * 60))
    return PasskeyError(
        f"Too many failed sign-ins for this account: try again in {minutes} minutes.",
        status=HTTPStatus.TOO_MANY_REQUESTS,
    )


def failure_record(request: Any, user: User | None, reason: str) -> None:
    """A passkey's answer was wrong: a ``security.mfa.failure`` event, one more failure for
    the address, and for ``user``'s lockout when the account is known."""
    audit_record(
        actor=None,
        action=FAILURE_EVENT,
        target=user,
        target_label=user.email if user is not None else "",
        after={"path": request.path[:200]},
        details={"factor": "passkey", "reason": reason[:300]},
    )
    metrics.sign_in_failed("passkey")
    login_failures_per_address().hit(client_address(request))
    if user is not None:
        AxesProxyHandler.user_login_failed(
            sender=__name__, credentials={"username": user.email}, request=request
        )


def address_check(request: Any) -> None:
    """Refuse to check passkeys from an address paused by its failures, whatever the accounts."""
    wait = login_failures_per_address().exceeded(client_address(request))
    if wait is not None:
        raise _paused(wait)


def lockout_check(request: Any, user: User) -> None:
    """Refuse to check a passkey of a paused account, or from a paused address; count this
    attempt first, as the sign-in form does."""
    if AxesProxyHandler.is_locked(request, {"username": user.email}):
        raise _paused()
    address_check(request)
    wait = login_attempts_per_account().take(recorded_identifier(user.email))
    if wait is not None:
        raise _paused(wait)


def attempts_forget(user: User) -> None:
    """A passkey proved: the account's pre-count of attempts starts again."""
    login_attempts_per_account().forget(recorded_identifier(user.email))
