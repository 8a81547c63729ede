"""The dashboard's user list: keyset pages (no total count, no offset), search, htmx links."""

from __future__ import annotations

import html
import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.selectors import user_page

pytestmark = pytest.mark.django_db

URL = "/dashboard/users/"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/users/"}
ROW_EMAIL = re.compile(r'<td><a href="[^"]+">([^<]+)</a></td>')


@pytest.fixture
def people(staff_user) -> list[str]:
    """120 more people, and every email in the list's order (admin@ first)."""
    User.objects.bulk_create(
        User(email=f"person-{number:03d}@abcinc.example", name=f"Person {number:03d}", password="!")
        for number in range(120)
    )
    return sorted(User.objects.values_list("email", flat=True))


def _emails(response) -> list[str]:
    return ROW_EMAIL.findall(response.content.decode())


def _link(response, label: str) -> str | None:
    """The URL of the pager link ``label``, or None when the page has none."""
    found = re.search(rf'<a href="(\?[^"]*)" hx-get="\1">{label}</a>', response.content.decode())
    return URL + html.unescape(found.group(1)) if found else None


def _url(response, label: str) -> str:
    """The URL of the pager link ``label``, which the page must have."""
    url = _link(response, label)
    assert url is not None, f"no {label} link"
    return url


def test_next_links_walk_every_user_once_in_email_order(staff_client, people):
    pages: list[list[str]] = []
    url: str | None = URL
    while url:
        response = staff_client.get(url)
        assert response.status_code == HTTPStatus.OK
        pages.append(_emails(response))
        url = _link(response, "Next")
    assert [len(page) for page in pages] == [50, 50, 21]
    assert [email for page in pages for email in page] == people


def test_previous_links_walk_back_to_a_full_first_page(staff_client, people):
    first = staff_client.get(URL)
    assert _link(first, "Previous") is None and _link(first, "First") is None
    second = staff_client.get(_url(first, "Next"))
    third = staff_client.get(_url(second, "Next"))
    assert _link(third, "Next") is None

    back = staff_client.get(_url(third, "Previous"))
    assert _emails(back) == _emails(second)
    assert _emails(staff_client.get(_url(back, "Previous"))) == people[:50]
    assert _emails(staff_client.get(_url(third, "First"))) == people[:50]


def test_a_previous_page_that_would_be_short_is_the_first_page(staff_client, people):
    response = staff_client.get(URL, {"before": people[10]})
    assert _emails(response) == people[:50]
    assert _link(response, "Previous") is None


def test_the_search_holds_across_pages_and_matches_any_case_in_the_middle(staff_client, people):
    response = staff_client.get(URL, {"q": "SON 1"})  # the names "Person 100" to "Person 119"
    assert _emails(response) == [f"person-{number}@abcinc.example" for number in range(100, 120)]
    assert _link(response, "Next") is None

    response = staff_client.get(URL, {"q": "person"})
    following = staff_client.get(_url(response, "Next"))
    assert "q=person" in _url(response, "Next")
    assert _emails(following) == people[51:101]


def test_every_page_costs_the_same_queries_and_none_counts(staff_client, people):
    def queries(url: str) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(url).status_code == HTTPStatus.OK
        return [query["sql"] for query in captured.captured_queries]

    first = queries(URL)
    last = queries(f"{URL}?after={people[99]}")
    before = queries(f"{URL}?before={people[100]}")
    assert len(first) == len(last) == len(before)
    assert not any("COUNT(" in sql.upper() for sql in first + last + before)


def test_htmx_gets_the_fragment_with_pager_links_that_swap_it(staff_client, people):
    response = staff_client.get(URL, {"q": "person"}, **HTMX)
    body = response.content.decode()
    assert "<html" not in body
    assert 'hx-target="#user-results"' in body and 'hx-push-url="true"' in body
    assert _url(response, "Next").endswith(f"after={people[50].replace('@', '%40')}")


def test_rows_show_the_type_the_manager_and_the_status(staff_client, user, staff_user):
    User.objects.filter(pk=user.pk).update(manager=staff_user, worker_type=User.WorkerType.CONTRACTOR)
    User.objects.create_user(email="gone@abcinc.example", is_active=False)
    body = staff_client.get(URL).content.decode()
    alice = body[body.index("alice@abcinc.example") :].split("</tr>")[0]
    assert "Contractor" in alice and "admin@abcinc.example" in alice and "active" in alice
    assert '<span class="badge">staff</span>' in body.split("alice@")[0]
    assert '<span class="badge muted">blocked</span>' in body.split("gone@")[1].split("</tr>")[0]


def test_every_row_links_to_that_persons_page(staff_client, people):
    links = re.findall(r'<td><a href="([^"]+)">([^<]+)</a></td>', staff_client.get(URL).content.decode())
    pks = dict(User.objects.values_list("email", "pk"))
    assert len(links) == 50
    assert all(href == reverse("users:detail", args=[pks[email]]) for href, email in links)


def test_a_page_past_the_end_is_empty_and_says_so(staff_client, people):
    response = staff_client.get(URL, {"after": people[-1]})
    assert response.status_code == HTTPStatus.OK
    assert _emails(response) == []
    assert "No users here." in response.content.decode()


def test_the_selector_gives_only_what_the_list_shows(people):
    page = user_page(size=2)
    assert [row["email"] for row in page.rows] == people[:2]
    assert set(page.rows[0]) == {
        "pk",
        "email",
        "name",
        "worker_type",
        "worker_type_label",
        "status",
        "former_email",
        "last_login",
        "is_staff",
        "manager_email",
    }
    assert page.after == people[1] and page.before is None
