"""Sign-ins, sign-outs, sign-in failures (with the reason) and lockouts go to the audit log,
with the address (accounts.throttle.client_address) they came from."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .audit import USER_AGENT_MAX, audit_record
from .identifiers import is_login_email, recorded_identifier
from .models import User
from .throttle import client_address, login_failures_per_address

# Why a sign-in failed, as the logs show it (Auth0's "Wrong email or password" split).
LOCKED_OUT = "locked_out"
NOT_AN_EMAIL = "not_an_email"
UNKNOWN_PERSON = "unknown_person"
DEACTIVATED = "deactivated"
WRONG_PASSWORD = "wrong_password"  # noqa: S105 - a reason, not a password


def _browser(request: HttpRequest | None) -> dict[str, str]:
    if request is None:
        return {"path": "", "user_agent": ""}
    return {
        "path": request.path[:200],
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
    }


def failure_reason(identifier: str, request: HttpRequest | None) -> str:
    """Why a sign-in as ``identifier`` (already ``recorded_identifier``'s) failed."""
    if request is not None and getattr(request, "axes_locked_out", False):
        return LOCKED_OUT  # django-axes refused before the password was checked
    if not is_login_email(identifier):
        return NOT_AN_EMAIL
    person = User.objects.filter(email__iexact=identifier).only("is_active").first()
    if person is None:
        return UNKNOWN_PERSON
    return WRONG_PASSWORD if person.is_active else DEACTIVATED


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs
) -> None:
    # What was typed may be a password in the wrong box: only a valid email is recorded.
    identifier = recorded_identifier(str(credentials.get("username") or ""))
    audit_record(
        actor=None,
        action="security.login_failure",
        target_label=identifier,
        after=_browser(request),
        details={"reason": failure_reason(identifier, request)},
    )
    if request is not None:
        # An address's own, much higher limit, whatever the accounts it tries (LoginView checks it).
        login_failures_per_address().hit(client_address(request))


def on_locked_out(
    sender: Any, request: HttpRequest, username: str | None = None, ip_address: str | None = None, **kwargs
) -> None:
    # ``username`` is already what axes_username recorded: a valid email or a redacted marker.
    audit_record(
        actor=None,
        action="security.lockout",
        target_label=(username or "")[:200],
        after={"username": username, "ip_address": ip_address},
    )


def on_logged_in(sender: type, request: HttpRequest | None, user: User, **kwargs) -> None:
    audit_record(actor=user, action="security.login", target=user, after=_browser(request))


def on_logged_out(sender: type, request: HttpRequest | None, user: User | None, **kwargs) -> None:
    if user is None or not user.pk:
        return  # signing out without having signed in: nobody to record
    audit_record(actor=user, action="security.logout", target=user, after=_browser(request))
