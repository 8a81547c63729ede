"""The Applications list: search by name or client id, sort by the column headers, pages."""

from __future__ import annotations

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from clients.models import Client
from clients.services import client_create

pytestmark = pytest.mark.django_db

URL = "/dashboard/applications/"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver{URL}"}
ROW = re.compile(r'<td><a href="/dashboard/applications/\d+/">([^<]+)</a></td>')
CALLBACK = ["com.abcinc.app:/callback"]


def _names(response) -> list[str]:
    assert response.status_code == HTTPStatus.OK
    return ROW.findall(response.content.decode())


@pytest.fixture
def clients() -> None:
    Client.objects.all().delete()
    made = [
        client_create(app_type=Client.AppType.M2M, name="Batch", client_id="payroll-batch")[0],
        client_create(
            app_type=Client.AppType.NATIVE, name="Mobile", client_id="mobile", redirect_uris=CALLBACK
        )[0],
        client_create(app_type=Client.AppType.M2M, name="Archiver", client_id="archiver")[0],
    ]
    for age, client in enumerate(reversed(made)):  # Archiver newest, Batch oldest
        Client.objects.filter(pk=client.pk).update(created=timezone.now() - timedelta(days=age))


def test_lists_applications_by_name_by_default(staff_client, clients):
    assert _names(staff_client.get(URL)) == ["Archiver", "Batch", "Mobile"]


@pytest.mark.parametrize(
    ("q", "expected"), [("MOB", ["Mobile"]), ("payroll", ["Batch"]), ("r", ["Archiver", "Batch"])]
)
def test_search_matches_name_or_client_id(staff_client, clients, q, expected):
    assert _names(staff_client.get(URL, {"q": q})) == expected


def test_a_search_that_finds_nothing_says_so(staff_client, clients):
    response = staff_client.get(URL, {"q": "zzz"})
    assert _names(response) == []
    assert "No application matches “zzz”." in response.content.decode()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-name", ["Mobile", "Batch", "Archiver"]),
        ("type", ["Archiver", "Batch", "Mobile"]),  # m2m before native, by name within a type
        ("-type", ["Mobile", "Batch", "Archiver"]),
        ("created", ["Batch", "Mobile", "Archiver"]),
        ("-created", ["Archiver", "Mobile", "Batch"]),
    ],
)
def test_sorts_by_the_asked_column(staff_client, clients, sort, expected):
    response = staff_client.get(URL, {"sort": sort})
    assert _names(response) == expected
    direction = "descending" if sort.startswith("-") else "ascending"
    assert f'aria-sort="{direction}"' in response.content.decode()


def test_second_page_shows_the_rest(staff_client, clients):
    for number in range(25):
        client_create(
            app_type=Client.AppType.M2M, name=f"Worker {number:02d}", client_id=f"worker-{number:02d}"
        )
    first = staff_client.get(URL, {"q": "worker", "sort": "-name"})
    assert _names(first) == [f"Worker {number:02d}" for number in range(24, -1, -1)]
    assert "Page 1 of 1" not in first.content.decode()  # one page: no pager
    everyone = staff_client.get(URL)
    assert "Page 1 of 2" in everyone.content.decode()
    second = staff_client.get(URL, {"page": "2"})
    assert _names(second) == [f"Worker {number:02d}" for number in range(22, 25)]
    assert "Page 2 of 2" in second.content.decode()


@pytest.mark.parametrize("query", [{"sort": "client_secret"}, {"page": "-3"}, {"page": "1e9"}, {"q": " "}])
def test_bad_values_fall_back(staff_client, clients, query):
    assert _names(staff_client.get(URL, query)) == ["Archiver", "Batch", "Mobile"]


def test_htmx_gets_only_the_results(staff_client, clients):
    response = staff_client.get(URL, {"q": "mob", "sort": "-name"}, **HTMX)
    content = response.content.decode()
    assert _names(response) == ["Mobile"]
    assert "<h1>" not in content and 'role="search"' not in content
    # The Name header reverses the order: back to the default, which the link leaves out.
    assert '<a class="sort-link" href="/dashboard/applications/?q=mob"' in content
