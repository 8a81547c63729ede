"""The account page (``/account/``): a signed-in person's profile as applications see it, and
the applications they allowed, each of which they can revoke.

It lives in ``authz``, the highest app it needs: the profile claims are ``accounts``', the
consents and grants are ours. It keeps its URL name ``accounts:home``: ``config/urls.py``
passes ``page_urls`` into ``accounts``' URL namespace (``accounts`` cannot import us).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from accounts.claims import user_claims
from accounts.dashboard import HtmxHttpRequest, fragment_or_redirect, render_page

from .account_services import app_sign_out, consent_withdraw
from .selectors import user_consents, user_signed_in_apps

TEMPLATE = "authz/account/home.html"


def _consents_fragment(request: HtmxHttpRequest, *, notice: str) -> HttpResponse:
    context = {"consents": user_consents(request.user), "notice": notice}
    return render_page(request, TEMPLATE, context, fragment="consents")


def _apps_fragment(request: HtmxHttpRequest, *, notice: str) -> HttpResponse:
    context = {"signed_in_apps": user_signed_in_apps(request.user), "apps_notice": notice}
    return render_page(request, TEMPLATE, context, fragment="signed_in_apps")


@require_GET
@login_required
def account_home(request: HtmxHttpRequest) -> HttpResponse:
    context = {
        "claims": user_claims(request.user),
        "consents": user_consents(request.user),
        "signed_in_apps": user_signed_in_apps(request.user),
    }
    return render_page(request, TEMPLATE, context)


@require_POST
@login_required
def app_sign_out_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Sign the person out of one application that holds refresh tokens for them (only
    those: any other application is a 404)."""
    client = next((app for app, _tokens in user_signed_in_apps(request.user) if app.pk == pk), None)
    if client is None:
        raise Http404("No such application holds a sign-in of yours.")
    app_sign_out(actor=request.user, client=client)
    notice = f"Signed out of “{client.name}”: it asks you to sign in again."
    return fragment_or_redirect(
        request, lambda: _apps_fragment(request, notice=notice), notice=notice, to="accounts:home"
    )


@require_POST
@login_required
def consent_revoke(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the signed-in person's own consents (anyone else's is a 404)."""
    consent = get_object_or_404(user_consents(request.user), pk=pk)
    ended = consent_withdraw(actor=request.user, consent=consent)
    notice = f"Consent for “{consent.client.name}” revoked: it asks again the next time you use it."
    if ended:
        notice += " You are signed out of it."
    return fragment_or_redirect(
        request, lambda: _consents_fragment(request, notice=notice), notice=notice, to="accounts:home"
    )


# Mounted inside the ``accounts`` namespace by config/urls.py: ``accounts:home`` and
# ``accounts:consent_revoke``.
page_urls = [
    path("account/", account_home, name="home"),
    path("account/consents/<int:pk>/revoke/", consent_revoke, name="consent_revoke"),
    path("account/apps/<int:pk>/sign-out/", app_sign_out_view, name="app_sign_out"),
]
