"""The logs list's free-text search and its order, newest or oldest first, paged by key
both ways."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from accounts.logs import PAGE_SIZE
from accounts.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = "/dashboard/logs/"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver{URL}"}
COUNT = PAGE_SIZE * 2 + 7


@pytest.fixture
def entries(staff_client) -> list[int]:
    """``COUNT`` entries a minute apart, some at the same moment; their ids, oldest first."""
    AuditEntry.objects.all().delete()  # the staff member's own sign-in
    start = timezone.now() - timedelta(days=1)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            action="token.issue.client_credentials" if number % 3 else "security.login",
            actor_label=f"person-{number:03d}@abcinc.example",
            client_id="batch" if number % 2 else "mobile",
            at=start + timedelta(minutes=number // 2),  # pairs share a time: the id breaks the tie
        )
        for number in range(COUNT)
    )
    return list(AuditEntry.objects.order_by("at", "id").values_list("pk", flat=True))


def _shown(response) -> list[int]:
    assert response.status_code == HTTPStatus.OK
    return [entry.pk for entry, _summary in response.context["rows"]]


def _link(response, label: str) -> str | None:
    found = re.search(rf'<a href="(\?[^"]*)">{label}</a>', response.content.decode())
    return URL + html.unescape(found.group(1)) if found else None


def _walk(client, url: str, label: str) -> list[list[int]]:
    pages = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        pages.append(_shown(response))
        next_url = _link(response, label)
    return pages


def test_newest_first_by_default_and_older_pages_reach_the_first_entry(staff_client, entries):
    pages = _walk(staff_client, URL, "Older")
    assert [len(page) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 7]
    assert [pk for page in pages for pk in page] == entries[::-1]


def test_oldest_first_reads_forward_with_newer_links(staff_client, entries):
    first = staff_client.get(URL, {"sort": "at"})
    assert 'aria-sort="ascending"' in first.content.decode()
    assert _link(first, "Older") is None  # nothing before the first entry
    pages = _walk(staff_client, f"{URL}?sort=at", "Newer")
    assert [len(page) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 7]
    assert [pk for page in pages for pk in page] == entries


def test_oldest_first_walks_back_to_the_same_pages(staff_client, entries):
    second_url = _link(staff_client.get(URL, {"sort": "at"}), "Newer")
    assert second_url is not None
    third_url = _link(staff_client.get(second_url), "Newer")
    assert third_url is not None
    third = staff_client.get(third_url)
    assert _link(third, "Newer") is None
    back_url = _link(third, "Older")
    assert back_url is not None and "sort=at" in back_url
    assert _shown(staff_client.get(back_url)) == entries[PAGE_SIZE : 2 * PAGE_SIZE]
    oldest_url = _link(third, "Oldest")
    assert oldest_url is not None
    assert _shown(staff_client.get(oldest_url)) == entries[:PAGE_SIZE]


def test_the_order_links_switch_and_start_over(staff_client, entries):
    newest = staff_client.get(URL, {"type": "token.", "after": "1_1"})
    content = newest.content.decode()
    assert 'aria-sort="descending"' in content
    assert '<a href="?type=token.&amp;sort=at">Show oldest first</a>' in content
    oldest = staff_client.get(URL, {"type": "token.", "sort": "at"}).content.decode()
    assert '<a href="?type=token.">Show newest first</a>' in oldest
    # The filters' form keeps the order through the next search.
    assert '<input type="hidden" name="sort" value="at" form="log-filters">' in oldest


@pytest.mark.parametrize(
    "query", [{"sort": "actor_label"}, {"sort": "-at"}, {"sort": "at", "after": "x_1"}, {"before": "../"}]
)
def test_bad_order_or_cursor_falls_back_to_a_first_page(staff_client, entries, query):
    shown = _shown(staff_client.get(URL, query))
    expected = entries[:PAGE_SIZE] if query.get("sort") == "at" else entries[::-1][:PAGE_SIZE]
    assert shown == expected


def test_search_narrows_the_entries_in_either_order(staff_client, entries):
    newest = _shown(staff_client.get(URL, {"q": " PERSON-00"}))
    labels = dict(AuditEntry.objects.values_list("pk", "actor_label"))
    assert [labels[pk] for pk in newest] == [f"person-{n:03d}@abcinc.example" for n in range(9, -1, -1)]
    oldest = _shown(staff_client.get(URL, {"q": "person-00", "sort": "at"}))
    assert oldest == newest[::-1]
    combined = _shown(staff_client.get(URL, {"q": "security.login", "client": "mobile"}))
    assert combined and all(number % 6 == 0 for number in (entries.index(pk) for pk in combined))


def test_a_search_that_finds_nothing_says_so(staff_client, entries):
    response = staff_client.get(URL, {"q": "no-such-thing"})
    assert _shown(response) == []
    assert "No entry matches “no-such-thing” with these filters." in response.content.decode()


def test_htmx_search_returns_the_results_alone(staff_client, entries):
    response = staff_client.get(URL, {"q": "person-10", "sort": "at"}, **HTMX)
    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert len(re.findall(r'<a href="/dashboard/logs/\d+/">', content)) == 7  # person-100 to 106
    assert "<h1>" not in content and 'id="log-filters"' not in content
    assert 'aria-sort="ascending"' in content


def test_export_keeps_the_search(staff_client, entries):
    response = staff_client.get(f"{URL}export.csv", {"q": "person-00"})
    body = b"".join(response.streaming_content).decode()
    assert body.count("person-00") == 10
    assert "person-010" not in body
