"""The list kit: the search, sort and page a URL asks for, and the links a list keeps."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from accounts.listing import (
    SEARCH_MAX,
    list_query,
    ordering,
    parse_search,
    parse_sort,
    search_filter,
)
from accounts.models import User

COLUMNS = ("email", "name")


def _params(query: str) -> QueryDict:
    return QueryDict(query)


def test_search_is_trimmed_and_capped():
    assert parse_search(_params("q=%20%20ada%20")) == "ada"
    assert parse_search(_params("q=" + "x" * 300)) == "x" * SEARCH_MAX
    assert parse_search(_params("")) == ""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sort=name", "name"),
        ("sort=-name", "-name"),
        ("sort=password", "email"),
        ("sort=--name", "email"),
        ("", "email"),
    ],
)
def test_sort_must_name_a_column(query, expected):
    assert parse_sort(_params(query), COLUMNS, "email") == expected


def test_ordering_reverses_every_field_and_breaks_ties_by_key():
    orders = {"type": ("app_type", "-created")}
    assert ordering("type", orders) == ["app_type", "-created", "pk"]
    assert ordering("-type", orders) == ["-app_type", "created", "-pk"]


@pytest.fixture
def people(db) -> list[User]:
    User.objects.all().delete()
    return User.objects.bulk_create(
        User(email=f"p{number:02d}@abcinc.example", name=f"Person {60 - number:02d}", password="!")
        for number in range(60)
    )


def test_search_filter_matches_any_field_ignoring_case(people):
    found = User.objects.filter(search_filter("PERSON 0", ("email", "name")))
    assert sorted(found.values_list("name", flat=True)) == [f"Person 0{n}" for n in range(1, 10)]
    assert User.objects.filter(search_filter("", ("email",))).count() == 60


def _page(query: str, per_page: int = 25):
    wanted = list_query(_params(query), columns=COLUMNS, default_sort="email")
    rows = User.objects.filter(search_filter(wanted.search, ("email", "name")))
    return wanted.paginate(
        rows.order_by(*ordering(wanted.sort, {"email": ("email",), "name": ("name",)})), per_page=per_page
    )


def test_pages_keep_the_search_and_the_order(people):
    listing = _page("q=person&sort=-name&page=2")
    assert [person.name for person in listing.rows] == [f"Person {n:02d}" for n in range(35, 10, -1)]
    assert (listing.page.number, listing.page.paginator.num_pages) == (2, 3)
    assert listing.query == "q=person&sort=-name"
    assert listing.previous_query == "q=person&sort=-name"  # page 1 is the list without a page
    assert listing.next_query == "q=person&sort=-name&page=3"


def test_headers_toggle_the_sorted_column_and_say_so(people):
    listing = _page("q=p&sort=name")
    assert listing.columns["name"].aria_sort == "ascending"
    assert listing.columns["name"].query == "q=p&sort=-name"
    assert listing.columns["email"].aria_sort == ""
    assert listing.columns["email"].query == "q=p"  # the default order is not spelled out
    assert _page("sort=-name").columns["name"].aria_sort == "descending"


@pytest.mark.parametrize(("page", "number"), [("99", 3), ("0", 3), ("two", 1), ("-1", 3), ("", 1)])
def test_a_page_that_is_no_page_falls_back(people, page, number):
    assert _page(f"page={page}").page.number == number


def test_the_default_order_is_not_in_the_links(people):
    listing = _page("")
    assert listing.query == ""
    assert listing.next_query == "page=2"
    assert listing.previous_query == ""
