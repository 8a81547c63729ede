"""The dashboard kit: the pieces every htmx page of ours is built from.

A page is one template; its fragments are named partials (django-template-partials).
A view renders the whole page, or, when htmx asks, the one fragment it swaps, through
``render_page``, so the ``Vary`` header and the history-restore case are handled once.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from .models import User


class SignedInRequest(HttpRequest):
    """A request past a sign-in check (``login_required``, ``staff_required``), for type
    hints: its user is a person, not ``AnonymousUser``."""

    user: User


class HtmxHttpRequest(SignedInRequest):
    """A signed-in request as django-htmx's middleware leaves it (for type hints)."""

    htmx: HtmxDetails


def wants_fragment(request: HtmxHttpRequest) -> bool:
    """htmx swaps a fragment, except when it restores a page from history: that needs all."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page(
    request: HtmxHttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragment: str | None = None,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    """``template`` whole, or its partial ``fragment`` alone when one is named.

    Always ``Vary: HX-Request``: the same URL answers a page or a fragment, and a cache
    must not hand one to a request for the other.
    """
    name = f"{template}#{fragment}" if fragment else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def render_page_or_fragment(
    request: HtmxHttpRequest,
    template: str,
    fragment: str,
    context: dict[str, Any],
    *,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    """The partial ``fragment`` for htmx, the whole page otherwise."""
    return render_page(
        request, template, context, fragment=fragment if wants_fragment(request) else None, status=status
    )


def fragment_or_redirect(
    request: HtmxHttpRequest, fragment: Callable[[], HttpResponse], *, notice: str, to: str
) -> HttpResponse:
    """After a write that succeeded: htmx gets the updated ``fragment()``, which shows
    ``notice`` in place; a form posted without JavaScript gets ``notice`` as a message and a
    redirect to ``to`` (a URL or a URL name), so that reloading does not post again.
    """
    if wants_fragment(request):
        return fragment()
    messages.success(request, notice)
    return redirect(to)


def navigate(request: HtmxHttpRequest, to: str) -> HttpResponse:
    """Go to another page (``to``: a URL or a URL name) after a write.

    htmx would swap a redirected-to page into the fragment's place: it gets ``HX-Redirect``.
    """
    url = resolve_url(to)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def model_form_field(model: type[models.Model], name: str, **kwargs: Any) -> forms.Field:
    """The form field of a model's column, so a form and the model never disagree on labels,
    help texts and format validators (``kwargs`` override them)."""
    # get_field may also answer a relation or a generic key; every name passed here is a column.
    field = cast(models.Field, model._meta.get_field(name)).formfield(**kwargs)
    if field is None:  # only a model field that is not editable has none
        raise TypeError(f"{model.__name__}.{name} has no form field.")
    return field


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: next to its field when the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target = field if field in form.fields and field != NON_FIELD_ERRORS else None
        form.add_error(target, errors)


class ConfirmForm(forms.Form):
    """A checkbox a destructive action needs ticked, with or without JavaScript.

    ``consequence`` is the checkbox's label: what the person accepts by ticking it.
    """

    confirm = forms.BooleanField()

    def __init__(self, *args: Any, consequence: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["confirm"].label = consequence
