from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_htmx.middleware import HtmxDetails

from .claims import user_claims
from .decorators import staff_required
from .models import User
from .selectors import user_list

USERS_PER_PAGE = 50


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Logout is a POST (Django enforces it), so a link or image cannot sign anyone out."""


@require_GET
@login_required
def account_home(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html", {"claims": user_claims(request.user)})


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
    page = Paginator(user_list(search=search), USERS_PER_PAGE).get_page(request.GET.get("page"))
    template = "accounts/user_list.html#results" if request.htmx else "accounts/user_list.html"
    response = render(request, template, {"page": page, "search": search})
    response["Vary"] = "HX-Request"
    return response
