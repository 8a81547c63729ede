"""The pages of ``accounts``: sign-in and sign-out, and the dashboard's overview, user list
and lockouts (the account page shows consents too, so it lives in ``authz.account``)."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url

from .dashboard import HtmxHttpRequest, render_page_or_fragment
from .decorators import staff_required
from .identifiers import recorded_identifier
from .mfa.signin import password_checked
from .models import User
from .selectors import SORTS, STATUSES, lockout_attempts, user_page
from .self_service_forms import SignInForm
from .services import lockout_reset
from .throttle import (
    client_address,
    login_attempts_per_account,
    login_failures_per_address,
    per_address,
    too_many,
)

USERS_PER_PAGE = 50
PERSON_PK_STAND_IN = 918273645  # digits no other part of a dashboard URL holds


class LoginView(auth_views.LoginView):
    """Our sign-in page, which one address cannot hammer."""

    template_name = "accounts/login.html"
    authentication_form = SignInForm
    # Someone already signed in who is sent here (prompt=login, max_age) signs in again.
    redirect_authenticated_user = False

    def form_valid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        """The password is right: sign in, or go on to the second factor (accounts.mfa)."""
        self._signing_in = form.get_user()
        return password_checked(self.request, self._signing_in, next_url=self.get_success_url())

    def get_default_redirect_url(self) -> str:
        """Where a sign-in without ``next`` lands: the dashboard for staff, My week for others."""
        if getattr(self, "_signing_in", self.request.user).is_staff:
            return reverse("accounts:dashboard")
        return super().get_default_redirect_url()

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if request.method != "POST":
            return super().dispatch(request, *args, **kwargs)
        address, limit = client_address(request), per_address()
        wait = limit.exceeded(address)
        if wait is not None:
            return _paused(request, wait)
        limit.hit(address)
        # Failed sign-ins from this address, whatever the accounts (counted by
        # security_events.on_login_failed): a much higher bar than one account's lockout.
        wait = login_failures_per_address().exceeded(address)
        account, attempts = recorded_identifier(request.POST.get("username")), login_attempts_per_account()
        # django-axes locks after the fifth failure is recorded; this stops a sixth guess
        # sent while the first five are still being checked.
        wait = wait or attempts.take(account)
        if wait is not None:
            return _paused(request, wait)
        response = super().dispatch(request, *args, **kwargs)
        signed_in = getattr(request.user, "email", None)
        if (
            response.status_code == HTTPStatus.FOUND
            and signed_in
            and recorded_identifier(signed_in) == account
        ):
            attempts.forget(account)
        return response


def _paused(request: HttpRequest, wait: int) -> HttpResponse:
    response = render(request, "accounts/locked_out.html", {"minutes": max(1, -(-wait // 60))})
    return too_many(wait, response)


def locked_out(request: HttpRequest, credentials: dict | None = None, *args, **kwargs) -> HttpResponse:
    """django-axes: too many failed sign-ins for this account or address."""
    minutes = int(settings.AXES_COOLOFF_TIME * 60)
    response = render(request, "accounts/locked_out.html", {"minutes": minutes})
    return too_many(minutes * 60, response)


class LogoutView(auth_views.LogoutView):
    """Logout is a POST (Django enforces it), so a link or image cannot sign anyone out."""


@require_GET
@staff_required
def dashboard_home(request: HtmxHttpRequest) -> HttpResponse:
    context = {
        "user_count": User.objects.count(),
        "staff_count": User.objects.filter(is_staff=True).count(),
    }
    return render(request, "dashboard/home.html", context)


@require_GET
@staff_required
def user_list_view(request: HtmxHttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    status = status if status in STATUSES else ""
    sort = request.GET.get("sort", "")
    sort = sort if sort in SORTS else "email"
    page = user_page(
        search=search,
        status=status,
        sort=sort,
        after=request.GET.get("after", "")[:300],
        before=request.GET.get("before", "")[:300],
        size=USERS_PER_PAGE,
    )
    # Each row's link to the person's page: the URL reversed once with a stand-in id that
    # each row's replaces. A {% url %} per row cost a quarter of this page's CPU.
    link = reverse("users:detail", args=[PERSON_PK_STAND_IN])
    for row in page.rows:
        row["url"] = link.replace(str(PERSON_PK_STAND_IN), str(row["pk"]))
    # What every link of the page keeps: the search, the filter and the order.
    query = urlencode(
        {"q": search, **({"status": status} if status else {}), **({"sort": sort} if sort != "email" else {})}
    )
    context = {
        "page": page,
        "search": search,
        "status": status,
        "sort": sort,
        "query": query,
        "statuses": STATUSES,
    }
    response = render_page_or_fragment(request, "accounts/user_list.html", "results", context)
    if request.htmx and not (request.GET.get("after") or request.GET.get("before")):
        # The search form sends every field; the address bar shows only those that narrow.
        push_url(response, f"{request.path}?{query}")
    return response


def _duration(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes % 60 == 0 and minutes >= 60:
        return f"{minutes // 60} hour{pluralize(minutes // 60)}"
    return f"{minutes} minute{pluralize(minutes)}"


@require_GET
@staff_required
def lockout_list(request: HtmxHttpRequest) -> HttpResponse:
    """Failed sign-ins that django-axes is counting, locked ones first, each with its state."""
    cool_off = get_cool_off()
    context = {
        "attempts": lockout_attempts(),
        "limit": settings.AXES_FAILURE_LIMIT,
        "cool_off": _duration(cool_off) if cool_off is not None else "",
        "timezone": timezone.get_current_timezone_name(),
    }
    return render(request, "accounts/lockouts.html", context)


@require_POST
@staff_required
def lockout_clear(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    attempt = get_object_or_404(AccessAttempt, pk=pk)
    lockout_reset(actor=request.user, attempt=attempt)
    messages.success(request, f"Cleared the failures of {attempt.username or attempt.ip_address}.")
    return redirect("accounts:lockouts")
