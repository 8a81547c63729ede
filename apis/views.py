"""The APIs section of the staff dashboard (Auth0's APIs page), and the public JWKS."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.dashboard import (
    ConfirmForm,
    HtmxHttpRequest,
    add_service_errors,
    fragment_or_redirect,
    render_page,
    render_page_or_fragment,
    wants_fragment,
)
from accounts.decorators import admin_required, staff_required
from accounts.issuer import issuer_url
from accounts.listing import list_query

from . import selectors, services
from .forms import ApiCreateForm, ApiSettingsForm, ScopeForm
from .keys import public_jwks
from .models import Api, Scope

logger = logging.getLogger(__name__)


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(public_jwks())
    max_age = settings.OAUTH2_PROVIDER["OIDC_JWKS_MAX_AGE_SECONDS"]
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- Dashboard ------------------------------------------------------------------------------

# "test" is the Test tab, a page of authz's (it issues a token): the tab links there.
TABS = {
    "settings": "Settings",
    "scopes": "Scopes",
    "signing": "Signing",
    "quickstart": "Quickstart",
    "test": "Test",
}
ROTATE_CONSEQUENCE = "I understand that tokens signed with the current secret stop working."
KEY_ROTATE_CONSEQUENCE = (
    "I understand that this rotates the server's signing keys for every API that uses them, "
    "not only this one: the published next keys, or new keys where none is published, sign from now on."
)
# Java reads \uXXXX before it reads a string, so a control character is an octal escape.
_JAVA_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def java_string(value: str) -> str:
    """``value`` as a Java string literal."""
    out = []
    for char in value:
        if char in _JAVA_ESCAPES:
            out.append(_JAVA_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):03o}")  # three digits: a digit after it stays a digit
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _api_or_404(pk: int) -> Api:
    try:
        return selectors.api_get(pk=pk)
    except Api.DoesNotExist as error:
        raise Http404("No such API.") from error


def _hs256_api_or_404(pk: int) -> Api:
    # An RS256 API has no secret that anyone should see or manage.
    api = _api_or_404(pk)
    if api.signing_algorithm != Api.Algorithm.HS256:
        raise Http404("This API does not sign with a shared secret.")
    return api


def _tab_url(api: Api, tab: str) -> str:
    return f"{reverse('apis:detail', args=[api.pk])}?tab={tab}"


def _jwks_url() -> str:
    return issuer_url("oauth2_provider:jwks-info")


def _scope_edit_form(scope: Scope, data: QueryDict | None = None) -> ScopeForm:
    # Its own ids, so that it can sit in the same fragment as the add form.
    initial = {"value": scope.value, "description": scope.description}
    return ScopeForm(data, initial=initial, auto_id=f"id_scope_{scope.pk}_%s")


def _render_detail(
    request: HtmxHttpRequest, api: Api, *, tab: str, fragment: str | None = None, **context
) -> HttpResponse:
    """The API page on one tab, or one of its fragments alone (for htmx).

    ``context`` overrides the tab's defaults, e.g. with a bound form that has errors.
    """
    context = {"api": api, "tab": tab, "tabs": TABS.items(), **context}
    if tab == "settings":
        context.setdefault("settings_form", ApiSettingsForm.for_api(api))
    elif tab == "scopes":
        context.setdefault("scope_form", ScopeForm())
        context["scopes"] = selectors.scope_list(api=api)
    elif tab == "signing":
        context.setdefault("confirm_form", ConfirmForm(consequence=ROTATE_CONSEQUENCE))
        if api.signing_algorithm != Api.Algorithm.HS256:
            context["signing_keys"] = selectors.signing_keys_published()
            context["key_schedule"] = selectors.signing_key_schedule()
            context["jwks_url"] = _jwks_url()
            context.setdefault("key_confirm_form", ConfirmForm(consequence=KEY_ROTATE_CONSEQUENCE))
            context["key_apis"] = selectors.api_list().exclude(signing_algorithm=Api.Algorithm.HS256)
    elif tab == "quickstart":
        values = {"issuer": settings.OIDC_ISSUER, "audience": api.identifier, "jwks_url": _jwks_url()}
        context["quickstart"] = values
        # JSON strings are valid Python string literals, whatever characters they hold.
        context["py"] = {name: json.dumps(value) for name, value in values.items()}
        context["java"] = {name: java_string(value) for name, value in values.items()}
    return render_page(request, "apis/api_detail.html", context, fragment=fragment)


def _scopes_response(request: HtmxHttpRequest, api: Api, **context) -> HttpResponse:
    fragment = "scopes" if wants_fragment(request) else None
    return _render_detail(request, api, tab="scopes", fragment=fragment, **context)


def _scopes_changed(request: HtmxHttpRequest, api: Api, notice: str) -> HttpResponse:
    return fragment_or_redirect(
        request,
        lambda: _scopes_response(request, api, notice=notice),
        notice=notice,
        to=_tab_url(api, "scopes"),
    )


@require_GET
@staff_required
def api_list(request: HtmxHttpRequest) -> HttpResponse:
    wanted = list_query(request.GET, columns=tuple(selectors.API_LIST_SORTS), default_sort="name")
    listing = wanted.paginate(selectors.api_list_search(search=wanted.search, sort=wanted.sort))
    return render_page_or_fragment(
        request, "apis/api_list.html", "results", {"listing": listing, "apis": listing.rows}
    )


@require_http_methods(["GET", "POST"])
@staff_required
def api_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ApiCreateForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            api = services.api_create(**form.cleaned_data, actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"API “{api.name}” created.")
            return redirect("apis:detail", pk=api.pk)
    return render(request, "apis/api_create.html", {"form": form})


@require_GET
@staff_required
def api_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    api = _api_or_404(pk)
    tab = request.GET.get("tab", "")
    if tab not in TABS:
        tab = "settings"
    context = {}
    edit = request.GET.get("edit", "")
    if tab == "scopes" and edit.isdigit():
        scope = selectors.scope_list(api=api).filter(pk=int(edit)).first()
        if scope is not None:
            context = {"editing": scope.pk, "edit_form": _scope_edit_form(scope)}
    fragment = "scopes" if wants_fragment(request) and tab == "scopes" else None
    return _render_detail(request, api, tab=tab, fragment=fragment, **context)


@require_POST
@staff_required
def api_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    api = _api_or_404(pk)
    form = ApiSettingsForm.for_api(api, request.POST)
    if form.is_valid():
        try:
            services.api_update(api=api, **form.settings(), actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Settings saved.")
            return redirect(_tab_url(api, "settings"))
    # The failed update left its values on the instance: show the stored API.
    return _render_detail(request, _api_or_404(pk), tab="settings", settings_form=form)


@require_http_methods(["GET", "POST"])
@staff_required
def api_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    api = _api_or_404(pk)
    if api.system:
        messages.error(request, f"{api.name} is the server's own API: it cannot be deleted.")
        return redirect("apis:detail", pk=api.pk)
    if request.method == "POST":
        name = api.name
        services.api_delete(api=api, actor=request.user)
        messages.success(request, f"API “{name}” deleted.")
        return redirect("apis:list")
    return render(request, "apis/api_delete.html", {"api": api, "scope_count": api.scopes.count()})


@require_POST
@staff_required
def scope_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    api = _api_or_404(pk)
    form = ScopeForm(request.POST)
    if form.is_valid():
        try:
            scope = services.scope_create(api=api, **form.cleaned_data, actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _scopes_changed(request, api, f"Scope “{scope.value}” added.")
    return _scopes_response(request, api, scope_form=form)


@require_POST
@staff_required
def scope_update(request: HtmxHttpRequest, pk: int, scope_pk: int) -> HttpResponse:
    api = _api_or_404(pk)
    scope = get_object_or_404(selectors.scope_list(api=api), pk=scope_pk)
    form = _scope_edit_form(scope, request.POST)
    if form.is_valid():
        try:
            scope = services.scope_update(scope=scope, **form.cleaned_data, actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _scopes_changed(request, api, f"Scope “{scope.value}” saved.")
    return _scopes_response(request, api, editing=scope.pk, edit_form=form)


@require_POST
@staff_required
def scope_delete(request: HtmxHttpRequest, pk: int, scope_pk: int) -> HttpResponse:
    api = _api_or_404(pk)
    scope = get_object_or_404(selectors.scope_list(api=api), pk=scope_pk)
    notice = f"Scope “{scope.value}” removed."
    try:
        services.scope_delete(scope=scope, actor=request.user)
    except ValidationError as error:
        notice = " ".join(error.messages)
    return _scopes_changed(request, api, notice)


@require_GET
@never_cache
@admin_required
def api_secret_reveal(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    api = _hs256_api_or_404(pk)
    logger.info("HS256 secret revealed: api=%s user=%s", api.pk, request.user.pk)
    fragment = "secret" if wants_fragment(request) else None
    return _render_detail(request, api, tab="signing", fragment=fragment, secret_revealed=True)


@require_POST
@staff_required
def api_secret_rotate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    api = _hs256_api_or_404(pk)
    form = ConfirmForm(request.POST, consequence=ROTATE_CONSEQUENCE)
    if not form.is_valid():
        return _render_detail(request, api, tab="signing", confirm_form=form)
    services.api_secret_rotate(api=api, actor=request.user)
    logger.info("HS256 secret rotated: api=%s user=%s", api.pk, request.user.pk)
    messages.success(
        request, "Secret rotated. Give your API the new secret: tokens signed with the old one fail."
    )
    return redirect(_tab_url(api, "signing"))


@require_POST
@staff_required
def signing_key_rotate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    # The keys are the server's, shared by every RS256 or ES256 API and rotated together;
    # ``pk`` is the page to return to.
    api = _api_or_404(pk)
    form = ConfirmForm(request.POST, consequence=KEY_ROTATE_CONSEQUENCE)
    if not form.is_valid():
        return _render_detail(request, api, tab="signing", key_confirm_form=form)
    key = services.signing_key_rotate_now(actor=request.user)
    logger.info("signing key rotated: kid=%s user=%s", key.kid, request.user.pk)
    messages.success(
        request, f"New signing keys are current (RSA {key.kid}). The previous keys stay published."
    )
    return redirect(_tab_url(api, "signing"))
