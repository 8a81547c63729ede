from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client as HttpClient

from accounts.models import User

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/users/",
}


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/users/"])
def test_anonymous_users_are_sent_to_login(path):
    response = HttpClient().get(path)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/login/?next={path}"


def test_anonymous_htmx_requests_get_a_client_redirect_and_no_data(user):
    response = HttpClient().get("/dashboard/users/?q=alice", **HTMX)
    assert response["HX-Redirect"] == "/login/?next=%2Fdashboard%2Fusers%2F"
    assert b"alice@" not in response.content


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/users/"])
def test_non_staff_users_are_forbidden(user_client, path):
    response = user_client.get(path)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert b"alice@abcinc.example" not in response.content or b"users" not in response.content


def test_staff_see_the_dashboard_with_its_sections(staff_user):
    http = HttpClient()
    http.force_login(staff_user)
    response = http.get("/dashboard/")
    assert response.status_code == HTTPStatus.OK
    # The overview and the logs join the menu once their URLs exist (tests/accounts/test_nav.py).
    labels = [
        item["label"]
        for item in response.context["dashboard_nav"]
        if item["label"] not in {"Overview", "Logs"}
    ]
    assert labels == [
        "Home",
        "APIs",
        "Applications",
        "Users",
        "Roles",
        "Groups",
        "Rules",
        "Multi-factor",
        "Token preview",
        "Import / Export",
        "Bulk jobs",
        "Lockouts",
        "Audit log",
    ]
    assert b"htmx" in response.content  # django-htmx's bundled script, served locally
    assert b'hx-headers=\'{"x-csrftoken": "' in response.content


def test_user_search_returns_only_the_results_fragment_to_htmx(staff_user, user):
    http = HttpClient()
    http.force_login(staff_user)
    response = http.get("/dashboard/users/?q=alice", **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert b"<html" not in response.content
    assert b"alice@abcinc.example" in response.content
    assert b"admin@abcinc.example" not in response.content
    assert response["Vary"] == "HX-Request" or "HX-Request" in response["Vary"]

    full = http.get("/dashboard/users/")
    assert b"<html" in full.content
    assert User.objects.count() == 2
    assert b"admin@abcinc.example" in full.content and b"alice@abcinc.example" in full.content
