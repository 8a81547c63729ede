"""The signals that feed the metrics: sign-ins (Django), lockouts (django-axes), failed
Celery tasks. Connected by ``AccountsConfig.ready``, so in every process that runs Django:
the web workers and the Celery worker alike.

A sign-in is counted when it completes: Django's ``login`` sends ``user_logged_in`` once,
after the second factor when one is asked (``accounts.mfa.context.sign_in_complete``). A
wrong password (or an attempt refused by the lockout) is Django's ``user_login_failed``; a
wrong second factor sends no signal and is counted where it is refused (``accounts.mfa``).
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from celery.signals import task_failure
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.http import HttpRequest

from . import metrics
from .identifiers import recorded_identifier
from .metrics_celery import on_task_failure
from .security_events import failure_reason


def on_logged_in(sender: Any, **_signal: Any) -> None:
    metrics.sign_in_succeeded()


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_signal: Any
) -> None:
    identifier = recorded_identifier(str(credentials.get("username") or ""))
    metrics.sign_in_failed(failure_reason(identifier, request))


def on_locked_out(sender: Any, **_signal: Any) -> None:
    metrics.locked_out()


def connect_signals() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="accounts.metrics_logged_in")
    user_login_failed.connect(on_login_failed, dispatch_uid="accounts.metrics_login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="accounts.metrics_locked_out")
    task_failure.connect(on_task_failure, dispatch_uid="accounts.metrics_task_failure")
