"""The accounts app: wires its sign-in, session, lockout and metrics signal receivers at start-up."""

from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from . import metrics_signals
        from .metrics_http import check_metrics_addresses
        from .security_events import on_locked_out, on_logged_in, on_logged_out, on_login_failed
        from .sessions import connect_signals
        from .throttle import check_trusted_proxies

        check_trusted_proxies()
        check_metrics_addresses()
        connect_signals()
        metrics_signals.connect_signals()
        user_login_failed.connect(on_login_failed, dispatch_uid="accounts.audit_login_failed")
        user_locked_out.connect(on_locked_out, dispatch_uid="accounts.audit_locked_out")
        user_logged_in.connect(on_logged_in, dispatch_uid="accounts.audit_logged_in")
        user_logged_out.connect(on_logged_out, dispatch_uid="accounts.audit_logged_out")
