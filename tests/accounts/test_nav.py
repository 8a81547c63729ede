"""Every page has a way to what its reader may use: My week and their account for everyone
signed in, the dashboard for staff only, sign-out everywhere; none on the protocol's pages."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from accounts import context_processors
from accounts.models import User
from config.views import server_error

pytestmark = pytest.mark.django_db


def _signed_in(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _links(response) -> dict[str, str]:
    return {item["label"]: item["url"] for item in response.context["site_nav"]}


@pytest.mark.parametrize("path", ["/time/", "/account/", "/account/sessions/", "/account/password/"])
def test_an_employee_sees_my_week_their_account_and_sign_out_but_no_dashboard(user, path):
    response = _signed_in(user).get(path)
    assert response.status_code == HTTPStatus.OK
    assert _links(response) == {"My week": "/time/", "Your account": "/account/"}
    body = response.content.decode()
    assert 'action="/logout/"' in body
    assert 'href="/dashboard/"' not in body


def test_staff_see_the_dashboard_from_their_own_pages(staff_user):
    response = _signed_in(staff_user).get("/account/")
    assert _links(response) == {"My week": "/time/", "Your account": "/account/", "Dashboard": "/dashboard/"}
    assert 'href="/dashboard/"' in response.content.decode()


def test_the_dashboard_sidebar_leads_back_to_my_week_the_account_and_sign_out(staff_client):
    response = staff_client.get("/dashboard/users/")
    assert _links(response) == {"My week": "/time/", "Your account": "/account/"}
    body = response.content.decode()
    assert 'action="/logout/"' in body
    nav = {item["label"]: item for item in response.context["dashboard_nav"]}
    assert nav["Users"]["active"] and not nav["Home"]["active"]
    assert nav["Bulk jobs"]["url"] == "/time/bulk/"
    # Every section listed is a page this administrator can open.
    for item in nav.values():
        assert staff_client.get(item["url"]).status_code == HTTPStatus.OK, item


def test_a_forbidden_page_still_offers_the_way_back(user):
    response = _signed_in(user).get("/dashboard/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    body = response.content.decode()
    assert 'href="/time/"' in body and 'action="/logout/"' in body
    assert "Dashboard" not in [item["label"] for item in response.context["site_nav"]]


def test_strangers_and_the_sign_in_page_get_no_menu(client, user):
    assert "site_nav" not in client.get("/login/").context
    assert "site_nav" not in _signed_in(user).get("/login/").context


def test_sections_whose_urls_do_not_exist_are_left_out(staff_client, monkeypatch):
    monkeypatch.setattr(
        context_processors,
        "DASHBOARD_SECTIONS",
        [*context_processors.DASHBOARD_SECTIONS, ("Nowhere", ("nowhere:list",))],
    )
    response = staff_client.get("/dashboard/")
    assert "Nowhere" not in [item["label"] for item in response.context["dashboard_nav"]]


def test_staff_land_on_the_dashboard_and_others_on_my_week(client, staff_user, user, password):
    response = client.post("/login/", {"username": staff_user.email, "password": password})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/dashboard/"
    other = HttpClient()
    response = other.post("/login/", {"username": user.email, "password": password})
    assert response["Location"] == "/time/"
    # An explicit destination still wins, for staff too.
    again = HttpClient().post("/login/?next=/account/", {"username": staff_user.email, "password": password})
    assert again["Location"] == "/account/"


def test_the_sign_in_field_is_typed_as_an_email(client):
    body = client.get("/login/").content.decode()
    assert '<input type="email" name="username"' in body
    assert 'autocomplete="username"' in body


def test_error_pages_render_in_the_layout_with_the_menu_and_the_favicon(user, rf):
    http = _signed_in(user)
    response = http.get("/no-such-page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    body = response.content.decode()
    assert "Page not found" in body and 'href="/time/"' in body and "favicon.svg" in body
    assert 'href="#main"' in body and 'id="main"' in body

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        page = server_error(rf.get("/account/"))
    assert page.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert b"Something went wrong" in page.content and b"favicon.svg" in page.content
    assert b"boom" not in page.content
