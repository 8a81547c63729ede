"""The APIs tab's introspection toggle: may a confidential application introspect an API's tokens."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.dashboard import HtmxHttpRequest, add_service_errors, fragment_or_redirect, wants_fragment
from accounts.decorators import staff_required

from . import services
from .forms import IntrospectionForm
from .models import Client
from .views import _api_or_404, _client_or_404, _render_detail, _tab_url

logger = logging.getLogger(__name__)


def _row(
    request: HtmxHttpRequest, client: Client, form: IntrospectionForm, *, notice: str = ""
) -> HttpResponse:
    """One API's introspection row as ``form`` shows it, alone (for htmx)."""
    return _render_detail(
        request, client, tab="apis", fragment="introspection_row", introspection=form, notice=notice
    )


@require_POST
@staff_required  # auditors look, and only administrators change (403 on any POST)
def client_introspection(request: HtmxHttpRequest, pk: int, api_pk: int) -> HttpResponse:
    client = _client_or_404(pk)
    api = _api_or_404(api_pk)
    form = IntrospectionForm(api, request.POST)
    form.is_valid()  # a checkbox: absent means unticked, so the form is always valid
    allowed = bool(form.cleaned_data.get("allowed"))
    to = f"{_tab_url(client, 'apis')}#introspection-{api.pk}"
    was_allowed = client.may_introspect.filter(pk=api.pk).exists()
    try:
        services.client_introspection_set(client=client, api=api, allowed=allowed, actor=request.user)
    except ValidationError as error:
        # A public application cannot authenticate there: the service refuses, nothing changes.
        if wants_fragment(request):
            add_service_errors(form, error)
            return _row(request, client, form)
        for message in error.messages:
            messages.error(request, message)
        return redirect(to)
    logger.info(
        "client introspection set: client=%s api=%s allowed=%s user=%s",
        client.pk,
        api.pk,
        allowed,
        request.user.pk,
    )
    if allowed == was_allowed:
        verb = "already may" if allowed else "already may not"
        notice = f"Nothing changed: {client.name} {verb} introspect the access tokens for {api.name}."
    else:
        verb = "may now" if allowed else "may no longer"
        notice = f"{client.name} {verb} introspect the access tokens for {api.name}."
    saved = IntrospectionForm(api, allowed=client.may_introspect.filter(pk=api.pk).exists())
    return fragment_or_redirect(
        request, lambda: _row(request, client, saved, notice=notice), notice=notice, to=to
    )
