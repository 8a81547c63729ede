"""Sign-in failures and lockouts go to the audit log, with the address they came from."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .audit import audit_record


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs
) -> None:
    audit_record(
        actor=None,
        action="security.login_failure",
        target_label=str(credentials.get("username", ""))[:200],
        after={"path": request.path if request is not None else ""},
    )


def on_locked_out(
    sender: Any, request: HttpRequest, username: str | None = None, ip_address: str | None = None, **kwargs
) -> None:
    audit_record(
        actor=None,
        action="security.lockout",
        target_label=(username or "")[:200],
        after={"username": username, "ip_address": ip_address},
    )
