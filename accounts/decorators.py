"""Access control for dashboard views."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

logger = logging.getLogger(__name__)


def _to_login(request: HttpRequest) -> HttpResponse:
    """Send the browser to sign in, and back here afterwards.

    An htmx request cannot follow a redirect to a full page, so it gets ``HX-Redirect`` to
    the page the fragment belongs to, not to the fragment's own URL.
    """
    if getattr(request, "htmx", False):
        next_url = request.htmx.current_url_abs_path or request.get_full_path()
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
            logger.warning("dashboard access denied: user=%s path=%s", user.pk, request.path)
            raise PermissionDenied("The dashboard is for staff.")
        return view(request, *args, **kwargs)

    return wrapper
