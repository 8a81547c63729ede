"""Access control for dashboard views."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from .audit import audit_record
from .models import AuditEntry, User

logger = logging.getLogger(__name__)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
DENIAL_COALESCE = timedelta(minutes=1)


def _to_login(request: HttpRequest) -> HttpResponse:
    """Send the browser to sign in, and back here afterwards.

    An htmx request cannot follow a redirect to a full page, so it gets ``HX-Redirect`` to
    the page the fragment belongs to, not to the fragment's own URL.
    """
    htmx = getattr(request, "htmx", None)  # set by django-htmx's middleware
    if htmx:
        next_url = htmx.current_url_abs_path or request.get_full_path()
        login_url = resolve_url(settings.LOGIN_URL)
        return HttpResponseClientRedirect(f"{login_url}?{urlencode({'next': next_url})}")
    return redirect_to_login(request.get_full_path())


def login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Django's login_required, answering htmx requests with ``HX-Redirect``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return _to_login(request)
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let staff through; send anonymous users to login and refuse everyone else with 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return _to_login(request)
        if not user.is_staff:
            _deny(request, user, "not staff")
            raise PermissionDenied("The dashboard is for staff.")
        if request.method not in SAFE_METHODS and not user.is_dashboard_admin:
            _deny(request, user, "read-only auditor")
            raise PermissionDenied("Auditors can look at everything and change nothing.")
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff with the administrator role only, even to look (e.g. revealing a secret)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and request.user.is_staff and not request.user.is_dashboard_admin:
            _deny(request, request.user, "read-only auditor")
            raise PermissionDenied("Only administrators can see this.")
        return view(request, *args, **kwargs)

    return staff_required(wrapper)


@transaction.atomic
def _deny(request: HttpRequest, user: User, why: str) -> None:
    """Log and audit a refused dashboard request: who (signed in) tried what.

    Repeats of the same refusal (user, method, path) within a minute of its entry add to
    that entry's ``count`` instead of writing new ones, so nobody can flood the audit log.
    """
    logger.warning("dashboard access denied (%s): user=%s %s %s", why, user.pk, request.method, request.path)
    after = {"method": request.method, "path": request.path[:200], "reason": why}
    recent = (
        AuditEntry.objects.select_for_update()
        .filter(
            actor=user,
            action="security.dashboard_denied",
            at__gte=timezone.now() - DENIAL_COALESCE,
            after__method=after["method"],
            after__path=after["path"],
            after__reason=why,
        )
        .order_by("-at", "-id")
        .first()
    )
    if recent is not None and isinstance(recent.after, dict):
        recent.after = {**recent.after, "count": int(recent.after.get("count", 1)) + 1}
        recent.save(update_fields=["after"])
        return
    audit_record(actor=user, action="security.dashboard_denied", target=user, after={**after, "count": 1})
