"""Session tracking: which browser sessions each user has, so that staff can end them.

Django's session store is keyed by an opaque session key and knows nothing of users;
the signals below keep a ``UserSession`` row per signed-in session. The store stays the
truth: a row whose session has expired or been flushed is not shown as active.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest

from .models import User, UserSession
from .throttle import client_ip

USER_AGENT_MAX = UserSession._meta.get_field("user_agent").max_length


def session_store(session_key: str | None = None) -> SessionBase:
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


# --- Reads ----------------------------------------------------------------------------------


def user_session_list(*, user: User) -> list[UserSession]:
    """The user's sessions that still exist in the session store, newest first."""
    store = session_store()
    return [row for row in user.browser_sessions.all() if store.exists(row.session_key)]


# --- Writes ---------------------------------------------------------------------------------


@transaction.atomic
def session_record(*, user: User, session_key: str, ip: str | None, user_agent: str) -> UserSession:
    """Remember a new sign-in. Not audited: logins are security events of their own."""
    row, _ = UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={"user": user, "ip": ip, "user_agent": user_agent[:USER_AGENT_MAX]},
    )
    return row


def session_forget(*, session_key: str) -> None:
    UserSession.objects.filter(session_key=session_key).delete()


def sessions_delete(*, user: User) -> int:
    """End every tracked session of ``user`` in the store and forget them; how many there were.

    Callers audit: this is a step of a larger change (deactivation), not one of its own.
    """
    rows = list(user.browser_sessions.all())
    store = session_store()
    for row in rows:
        store.delete(row.session_key)
    UserSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


# --- Signal receivers -----------------------------------------------------------------------


def _on_login(sender: type, request: HttpRequest | None, user: User, **kwargs) -> None:
    session = getattr(request, "session", None)
    if request is None or session is None:
        return
    if not session.session_key:
        session.save()
    session_record(
        user=user,
        session_key=session.session_key,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def _on_logout(sender: type, request: HttpRequest | None, user: User | None, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        session_forget(session_key=session_key)


def connect_signals() -> None:
    """Called from ``AccountsConfig.ready``."""
    user_logged_in.connect(_on_login, dispatch_uid="accounts.sessions.login")
    user_logged_out.connect(_on_logout, dispatch_uid="accounts.sessions.logout")
