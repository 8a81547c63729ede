"""The APIs list: search by name or identifier, sort by the column headers, pages."""

from __future__ import annotations

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from apis.models import Api

pytestmark = pytest.mark.django_db

URL = "/dashboard/apis/"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver{URL}"}
ROW = re.compile(r'<td><a href="/dashboard/apis/\d+/">([^<]+)</a></td>')


def _names(response) -> list[str]:
    assert response.status_code == HTTPStatus.OK
    return ROW.findall(response.content.decode())


@pytest.fixture
def apis() -> None:
    Api.objects.filter(system=False).delete()
    Api.objects.filter(system=True).update(name="Management API")
    made = [
        Api.objects.create(name="Payroll", identifier="https://payroll.abcinc.example/"),
        Api.objects.create(name="Timesheets", identifier="https://timesheets.abcinc.example/"),
        Api.objects.create(name="Billing", identifier="https://zz-billing.abcinc.example/"),
    ]
    # Created one day apart, Billing last.
    for age, api in enumerate(reversed(made)):
        Api.objects.filter(pk=api.pk).update(created_at=timezone.now() - timedelta(days=age))
    Api.objects.filter(system=True).update(created_at=timezone.now() - timedelta(days=30))


def test_lists_every_api_by_name_by_default(staff_client, apis):
    assert _names(staff_client.get(URL)) == ["Billing", "Management API", "Payroll", "Timesheets"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [("PAY", ["Payroll"]), ("timesheets.abcinc", ["Timesheets"]), ("  payroll  ", ["Payroll"])],
)
def test_search_matches_name_or_identifier(staff_client, apis, q, expected):
    assert _names(staff_client.get(URL, {"q": q})) == expected


def test_a_search_that_finds_nothing_says_so(staff_client, apis):
    response = staff_client.get(URL, {"q": "nothing-like-this"})
    assert _names(response) == []
    assert "No API matches “nothing-like-this”." in response.content.decode()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-name", ["Timesheets", "Payroll", "Management API", "Billing"]),
        ("identifier", ["Management API", "Payroll", "Timesheets", "Billing"]),
        ("created", ["Management API", "Payroll", "Timesheets", "Billing"]),
        ("-created", ["Billing", "Timesheets", "Payroll", "Management API"]),
    ],
)
def test_sorts_by_the_asked_column(staff_client, apis, sort, expected):
    assert Api.objects.get(system=True).identifier < "https://payroll"  # "@management" sorts first
    assert _names(staff_client.get(URL, {"sort": sort})) == expected


def test_headers_link_to_their_order_and_mark_the_current_one(staff_client, apis):
    content = staff_client.get(URL, {"sort": "-created", "q": "a"}).content.decode()
    sorted_header = '<th scope="col" aria-sort="descending"><a class="sort-link"'
    assert f'{sorted_header} href="/dashboard/apis/?q=a&amp;sort=created"' in content  # reverses
    assert 'href="/dashboard/apis/?q=a&amp;sort=identifier"' in content
    assert 'href="/dashboard/apis/?q=a"' in content  # by name: the default, not spelled out
    assert content.count("aria-sort=") == 1
    # The search form keeps the order: its hidden input sits in the results it swaps.
    assert '<input type="hidden" name="sort" value="-created" form="api-results-search">' in content


def test_second_page_shows_the_rest(staff_client, apis):
    Api.objects.bulk_create(
        Api(name=f"Extra {number:02d}", identifier=f"https://extra-{number:02d}.abcinc.example/")
        for number in range(30)
    )
    first = staff_client.get(URL)
    assert len(_names(first)) == 25
    assert "Page 1 of 2" in first.content.decode()
    assert 'href="/dashboard/apis/?page=2"' in first.content.decode()
    second = staff_client.get(URL, {"page": "2"})
    assert _names(second) == [f"Extra {number:02d}" for number in range(24, 30)] + [
        "Management API",
        "Payroll",
        "Timesheets",
    ]
    assert 'rel="prev">Previous</a>' in second.content.decode()
    assert 'rel="next"' not in second.content.decode()


@pytest.mark.parametrize("query", [{"sort": "hs256_secret"}, {"sort": "-"}, {"page": "x"}, {"page": "999"}])
def test_bad_sort_or_page_falls_back(staff_client, apis, query):
    assert _names(staff_client.get(URL, query)) == ["Billing", "Management API", "Payroll", "Timesheets"]


def test_htmx_gets_only_the_results(staff_client, apis):
    response = staff_client.get(URL, {"q": "pay"}, **HTMX)
    content = response.content.decode()
    assert _names(response) == ["Payroll"]
    assert "<h1>" not in content
    assert 'role="search"' not in content
    assert "HX-Request" in response["Vary"]
    whole = staff_client.get(URL, {"q": "pay"}).content.decode()
    assert 'hx-push-url="true"' in whole
    assert 'value="pay"' in whole
