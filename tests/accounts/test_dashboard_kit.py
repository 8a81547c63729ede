"""The dashboard kit: page or fragment with ``Vary: HX-Request``, what follows a write, service
errors on forms, the confirm box."""

from __future__ import annotations

from http import HTTPStatus
from typing import cast

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

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

# A real page of ours with a named fragment: the user list and its results.
TEMPLATE = "accounts/user_list.html"
CONTEXT = {"page": [], "search": "nobody"}
FRAGMENT_TEXT = "No user matches “nobody”."


def _request(**headers: str) -> HtmxHttpRequest:
    """A GET as django-htmx's middleware leaves it, with ``headers`` as sent by the browser."""
    request = RequestFactory().get("/dashboard/users/", headers=headers)
    # Anonymous, which HtmxHttpRequest's type rules out: set before the cast (the kit never reads it).
    request.user = AnonymousUser()
    request.session = SessionStore()
    MessageMiddleware(lambda request: HttpResponse()).process_request(request)
    htmx_request = cast(HtmxHttpRequest, request)
    htmx_request.htmx = HtmxDetails(request)
    return htmx_request


def _vary(response) -> list[str]:
    return [value.strip() for value in response.get("Vary", "").split(",")]


def test_a_plain_request_gets_the_whole_page():
    request = _request()
    assert not wants_fragment(request)
    response = render_page_or_fragment(request, TEMPLATE, "results", CONTEXT)
    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "<html" in content and 'id="user-results"' in content and FRAGMENT_TEXT in content
    assert "HX-Request" in _vary(response)


def test_htmx_gets_the_fragment_alone():
    request = _request(HX_Request="true")
    assert wants_fragment(request)
    response = render_page_or_fragment(request, TEMPLATE, "results", CONTEXT)
    content = response.content.decode()
    assert FRAGMENT_TEXT in content
    assert "<html" not in content and 'id="user-results"' not in content  # the swap target stays
    assert "HX-Request" in _vary(response)


def test_a_history_restore_gets_the_whole_page():
    # htmx asks, but to rebuild a page it has lost from its cache: a fragment would be all it shows.
    request = _request(HX_Request="true", HX_History_Restore_Request="true")
    assert not wants_fragment(request)
    response = render_page_or_fragment(request, TEMPLATE, "results", CONTEXT)
    assert "<html" in response.content.decode()
    assert "HX-Request" in _vary(response)


def test_render_page_renders_a_named_fragment_with_its_status():
    response = render_page(_request(), TEMPLATE, CONTEXT, fragment="results", status=HTTPStatus.BAD_REQUEST)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "<html" not in response.content.decode()
    assert "HX-Request" in _vary(response)


def _fragment() -> HttpResponse:
    return HttpResponse("the updated fragment")


def test_after_a_write_htmx_gets_the_fragment_and_no_message():
    request = _request(HX_Request="true")
    response = fragment_or_redirect(request, _fragment, notice="Saved.", to="accounts:user_list")
    assert (response.status_code, response.content) == (HTTPStatus.OK, b"the updated fragment")
    assert list(get_messages(request)) == []


def test_after_a_write_a_plain_post_is_redirected_with_the_notice():
    request = _request()
    response = fragment_or_redirect(request, _fragment, notice="Saved.", to="accounts:user_list")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/dashboard/users/"
    assert [str(message) for message in get_messages(request)] == ["Saved."]
    # A URL works as well as a URL name, anchor included.
    elsewhere = fragment_or_redirect(_request(), _fragment, notice="Saved.", to="/dashboard/#top")
    assert elsewhere["Location"] == "/dashboard/#top"


def test_navigate_tells_htmx_to_load_the_page_and_redirects_a_plain_request():
    swapped = navigate(_request(HX_Request="true"), "accounts:dashboard")
    assert swapped.status_code == HTTPStatus.OK
    assert swapped["HX-Redirect"] == "/dashboard/"
    plain = navigate(_request(), "accounts:dashboard")
    assert (plain.status_code, plain["Location"]) == (HTTPStatus.FOUND, "/dashboard/")


class _NameForm(forms.Form):
    name = forms.CharField()


def _bound_form() -> _NameForm:
    form = _NameForm({"name": "Reports"})
    assert form.is_valid()
    return form


def test_a_service_error_on_a_field_of_the_form_is_shown_next_to_it():
    form = _bound_form()
    add_service_errors(form, ValidationError({"name": "An API with this name exists."}))
    assert form.errors == {"name": ["An API with this name exists."]}
    assert form.non_field_errors() == []


def test_a_service_error_on_a_field_the_form_lacks_is_a_non_field_error():
    form = _bound_form()
    add_service_errors(
        form,
        ValidationError({"identifier": "Taken.", NON_FIELD_ERRORS: "Try again.", "name": "Too short."}),
    )
    assert form.non_field_errors() == ["Taken.", "Try again."]
    assert form.errors["name"] == ["Too short."]


def test_a_service_error_without_fields_is_a_non_field_error():
    form = _bound_form()
    add_service_errors(form, ValidationError("Something went wrong."))
    assert form.non_field_errors() == ["Something went wrong."]
    assert "name" not in form.errors


@pytest.mark.parametrize(
    ("data", "valid"), [({}, False), ({"confirm": ""}, False), ({"confirm": "on"}, True)]
)
def test_the_confirm_form_needs_its_box_ticked(data, valid):
    form = ConfirmForm(data, consequence="I understand that the old secret stops working.")
    assert form.is_valid() is valid
    if not valid:
        assert form.errors["confirm"] == ["This field is required."]


def test_the_confirm_box_is_labelled_with_the_consequence():
    form = ConfirmForm(consequence="I understand that the old secret stops working.")
    assert form.fields["confirm"].label == "I understand that the old secret stops working."
    assert "I understand that the old secret stops working." in str(form["confirm"].label_tag())
    # Each form has its own field: one consequence never leaks into another form.
    assert ConfirmForm(consequence="Other.").fields["confirm"].label == "Other."
    assert form.fields["confirm"].label == "I understand that the old secret stops working."
