"""``/`` leads each person where they work: administrators to the dashboard."""

from __future__ import annotations

from http import HTTPStatus

from django.urls import reverse


def test_administrators_land_on_the_dashboard(client, staff_user):
    client.force_login(staff_user)
    response = client.get("/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("accounts:dashboard")


def test_employees_land_on_their_week(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response["Location"] == reverse("timesheets:week")
    assert client.get(response["Location"]).status_code == HTTPStatus.OK


def test_someone_signed_out_is_asked_to_sign_in(client):
    week = client.get("/")["Location"]
    assert client.get(week)["Location"].startswith(reverse("accounts:login"))


def test_root_takes_no_posts(client, staff_user):
    client.force_login(staff_user)
    assert client.post("/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
