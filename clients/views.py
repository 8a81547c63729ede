"""The Applications section of the staff dashboard (Auth0's Applications page)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.dashboard import (
    ConfirmForm,
    HtmxHttpRequest,
    add_service_errors,
    fragment_or_redirect,
    navigate,
    render_page,
    render_page_or_fragment,
    wants_fragment,
)
from accounts.decorators import staff_required
from accounts.listing import list_query
from apis import selectors as api_selectors
from apis.models import Api

from . import selectors, services
from .forms import ClientCreateForm, ClientSettingsForm, GrantForm, IntrospectionForm
from .models import Client
from .quickstart import quickstart

logger = logging.getLogger(__name__)

TABS = {"settings": "Settings", "credentials": "Credentials", "apis": "APIs", "quickstart": "Quickstart"}
ROTATE_CONSEQUENCE = "I understand that the current secret stops working at once."
# A new application's secret waits in the session for the page the create form redirects
# to, which shows it once; a redirect that never arrives does not leave it there for long.
CREATED_SLOT = "clients.new_secret"
SECRET_SHOWN_WITHIN = 5 * 60  # seconds


def _client_or_404(pk: int) -> Client:
    return get_object_or_404(selectors.client_list(), pk=pk)


def _confidential_client_or_404(pk: int) -> Client:
    # A public application has no secret that anyone could rotate.
    client = _client_or_404(pk)
    if client.profile.is_public:
        raise Http404("This application is public: it has no secret.")
    return client


def _m2m_client_or_404(pk: int) -> Client:
    # Users' applications get their scopes through the users' permissions, not a grant.
    client = _client_or_404(pk)
    if client.app_type != Client.AppType.M2M:
        raise Http404("Only machine-to-machine applications are granted APIs directly.")
    return client


def _api_or_404(pk: int) -> Api:
    try:
        return api_selectors.api_get(pk=pk)
    except Api.DoesNotExist as error:
        raise Http404("No such API.") from error


def _tab_url(client: Client, tab: str) -> str:
    return f"{reverse('clients:detail', args=[client.pk])}?tab={tab}"


def _grant_forms(client: Client, bound: GrantForm | None = None) -> list[GrantForm]:
    """One row per registered API; ``bound`` (a row that failed to save) replaces its own."""
    granted = selectors.client_grants(client=client)
    rows = []
    for api in api_selectors.api_list().prefetch_related("scopes"):
        if bound is not None and bound.api.pk == api.pk:
            rows.append(bound)
        else:
            rows.append(GrantForm(api, granted=granted.get(api.pk)))
    return rows


def _render_detail(
    request: HtmxHttpRequest,
    client: Client,
    *,
    tab: str,
    fragment: str | None = None,
    **context,
) -> HttpResponse:
    """The application's page on one tab, or one of its fragments alone (for htmx).

    ``context`` overrides the tab's defaults, e.g. with a bound form that has errors.
    """
    context = {"client": client, "profile": client.profile, "tab": tab, "tabs": TABS.items(), **context}
    if tab == "settings":
        context.setdefault("settings_form", ClientSettingsForm(client))
    elif tab == "credentials":
        context.setdefault("confirm_form", ConfirmForm(consequence=ROTATE_CONSEQUENCE))
    elif tab == "apis" and client.app_type == Client.AppType.M2M and fragment is None:
        context["grant_forms"] = _grant_forms(client, context.get("grant"))
    elif tab == "quickstart":
        context["quickstart"] = quickstart(client, request.GET.get("api", ""))
    if tab == "apis" and fragment is None and not client.profile.is_public:
        context["introspected_apis"] = list(client.may_introspect.order_by("name"))
        # Every registered API gets a row, whatever the type: a web app has no grant rows.
        allowed = {api.pk for api in context["introspected_apis"]}
        context["introspection_forms"] = [
            IntrospectionForm(api, allowed=api.pk in allowed) for api in api_selectors.api_list_for_people()
        ]
    return render_page(request, "clients/client_detail.html", context, fragment=fragment)


def _new_secret_keep(
    request: HtmxHttpRequest, client: Client, secret: str | None, *, created: bool = True
) -> None:
    """Carry a new secret (None for a new public application) to the page after the redirect."""
    request.session[CREATED_SLOT] = {
        "client": client.pk,
        "secret": secret,
        "at": time.time(),
        "created": created,
    }


def _new_secret_take(request: HtmxHttpRequest, client: Client) -> dict[str, Any] | None:
    """What was kept for ``client``, gone from the session once read: shown once."""
    kept = request.session.get(CREATED_SLOT)
    if not isinstance(kept, dict) or kept.get("client") != client.pk:
        return None
    del request.session[CREATED_SLOT]
    if time.time() - kept["at"] > SECRET_SHOWN_WITHIN:
        return None
    return {"secret": kept["secret"], "created": kept.get("created", True)}


def _secret_response(request: HtmxHttpRequest, client: Client, secret: str | None, **context) -> HttpResponse:
    """The Credentials tab showing ``secret`` this once: it is stored hashed, nowhere in clear."""
    response = _render_detail(request, client, tab="credentials", new_secret=secret, **context)
    add_never_cache_headers(response)
    return response


def _grant_row(
    request: HtmxHttpRequest, client: Client, grant: GrantForm, *, notice: str = ""
) -> HttpResponse:
    """One API's row of the APIs tab as ``grant`` shows it: alone for htmx, else in the whole tab."""
    fragment = "grant_row" if wants_fragment(request) else None
    return _render_detail(request, client, tab="apis", fragment=fragment, grant=grant, notice=notice)


@require_GET
@staff_required
def client_list(request: HtmxHttpRequest) -> HttpResponse:
    wanted = list_query(request.GET, columns=tuple(selectors.CLIENT_LIST_SORTS), default_sort="name")
    listing = wanted.paginate(selectors.client_list_search(search=wanted.search, sort=wanted.sort))
    return render_page_or_fragment(
        request, "clients/client_list.html", "results", {"listing": listing, "clients": listing.rows}
    )


@require_http_methods(["GET", "POST"])
@never_cache
@staff_required
def client_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ClientCreateForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            client, secret = services.client_create(**form.create_kwargs(), actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            logger.info("application created: client=%s user=%s", client.pk, request.user.pk)
            messages.success(request, f"Application “{client.name}” created.")
            # Post/Redirect/Get: reloading the page that shows the secret must not create a
            # second application. The secret rides in the session to that page, shown once.
            _new_secret_keep(request, client, secret)
            return navigate(request, _tab_url(client, "credentials"))
    return render(request, "clients/client_create.html", {"form": form})


@require_GET
@staff_required
def client_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(pk)
    tab = request.GET.get("tab", "")
    if tab not in TABS:
        tab = "settings"
    fragment = "quickstart" if wants_fragment(request) and tab == "quickstart" else None
    created = _new_secret_take(request, client) if tab == "credentials" else None
    if created is not None:
        return _secret_response(request, client, **created)
    return _render_detail(request, client, tab=tab, fragment=fragment)


@require_POST
@staff_required
def client_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(pk)
    form = ClientSettingsForm(client, request.POST)
    if form.is_valid():
        try:
            services.client_update(client=client, **form.settings(), actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Settings saved.")
            return redirect(_tab_url(client, "settings"))
    # The failed update left its values on the instance: show the stored application.
    return _render_detail(request, _client_or_404(pk), tab="settings", settings_form=form)


@require_POST
@never_cache
@staff_required
def client_secret_rotate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    client = _confidential_client_or_404(pk)
    form = ConfirmForm(request.POST, consequence=ROTATE_CONSEQUENCE)
    if not form.is_valid():
        return _render_detail(request, client, tab="credentials", confirm_form=form)
    secret = services.client_secret_rotate(client=client, actor=request.user)
    logger.info("client secret rotated: client=%s user=%s", client.pk, request.user.pk)
    messages.success(request, "Secret rotated. The previous secret no longer works.")
    # Post/Redirect/Get, as at creation: reloading must not rotate again and so break the
    # secret just copied.
    _new_secret_keep(request, client, secret, created=False)
    return navigate(request, _tab_url(client, "credentials"))


@require_POST
@staff_required
def client_grant(request: HtmxHttpRequest, pk: int, api_pk: int) -> HttpResponse:
    client = _m2m_client_or_404(pk)
    api = _api_or_404(api_pk)
    form = GrantForm(api, request.POST, granted=selectors.client_grant_scopes(client=client, api=api))
    if form.is_valid():
        try:
            if form.cleaned_data["authorized"]:
                services.client_grant_set(
                    client=client, api=api, scopes=form.cleaned_data["scopes"], actor=request.user
                )
                notice = f"Authorized to call {api.name}."
            elif services.client_grant_delete(client=client, api=api, actor=request.user):
                notice = f"No longer authorized to call {api.name}."
            else:
                notice = f"{client.name} is not authorized to call {api.name}: nothing changed."
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            logger.info("client grant saved: client=%s api=%s user=%s", client.pk, api.pk, request.user.pk)
            granted = GrantForm(api, granted=selectors.client_grant_scopes(client=client, api=api))
            return fragment_or_redirect(
                request,
                lambda: _grant_row(request, client, granted, notice=notice),
                notice=notice,
                to=f"{_tab_url(client, 'apis')}#grant-{api.pk}",
            )
    return _grant_row(request, client, form)


@require_http_methods(["GET", "POST"])
@staff_required
def client_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(pk)
    if request.method == "POST":
        name = client.name
        services.client_delete(client=client, actor=request.user)
        logger.info("application deleted: client=%s user=%s", pk, request.user.pk)
        messages.success(request, f"Application “{name}” deleted.")
        return redirect("clients:list")
    return render(request, "clients/client_delete.html", {"client": client})
