"""The dashboard's list kit: search, sort and pages for the small tables (APIs, applications,
roles, groups), the same way on every page.

A list's URL keeps ``q`` (a search, trimmed, at most 100 characters), ``sort`` (one of the
list's columns, ``-`` first for descending) and ``page``. Values that make no sense fall back
quietly to the defaults (and a page past the end to the last one): a link that was edited
or outlived its data still shows a list. These tables hold tens or hundreds of rows, so
pages are offsets (django's ``Paginator``); the user list and the logs, which grow without
bound, page by key instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.http import urlencode

SEARCH_MAX = 100
PER_PAGE = 25


def parse_search(params: QueryDict) -> str:
    """The list's search: ``q`` trimmed, at most ``SEARCH_MAX`` characters."""
    return params.get("q", "").strip()[:SEARCH_MAX]


def parse_sort(params: QueryDict, columns: Sequence[str], default: str) -> str:
    """``sort`` when it names one of ``columns`` (``-`` first: descending), else ``default``."""
    sort = params.get("sort", "")
    return sort if sort.removeprefix("-") in columns else default


def search_filter(search: str, fields: Sequence[str]) -> Q:
    """Rows where any of ``fields`` contains ``search``, ignoring case (all rows when empty)."""
    if not search:
        return Q()
    return reduce(or_, (Q(**{f"{field}__icontains": search}) for field in fields))


def ordering(sort: str, orders: Mapping[str, Sequence[str]], *, tiebreak: str = "pk") -> list[str]:
    """The ``order_by`` arguments of ``sort`` (a key of ``orders``, ``-`` first: descending).

    ``orders`` maps each column to the fields it orders by; ``tiebreak`` is appended so that
    rows that tie keep one order and no row shows on two pages.
    """
    fields = [*orders[sort.removeprefix("-")], tiebreak]
    if not sort.startswith("-"):
        return fields
    return [field[1:] if field.startswith("-") else f"-{field}" for field in fields]


def _query(search: str, sort: str, default_sort: str) -> str:
    kept = {"q": search, "sort": sort if sort != default_sort else ""}
    return urlencode({key: value for key, value in kept.items() if value})


@dataclass(frozen=True)
class SortColumn:
    """A column header that sorts: the query its link asks for and its ``aria-sort``."""

    query: str
    aria_sort: str  # "ascending", "descending", or "" when the list is not in its order


@dataclass(frozen=True)
class Listing:
    """One page of a list, and what its search box, column headers and pager need."""

    search: str
    sort: str
    default_sort: str
    page: Page
    columns: dict[str, SortColumn]

    @property
    def rows(self) -> list[Any]:
        return list(self.page.object_list)

    @property
    def query(self) -> str:
        """What every link of the list keeps: the search and the order (when not the default)."""
        return _query(self.search, self.sort, self.default_sort)

    @property
    def previous_query(self) -> str:
        return self._page_query(self.page.previous_page_number()) if self.page.has_previous() else ""

    @property
    def next_query(self) -> str:
        return self._page_query(self.page.next_page_number()) if self.page.has_next() else ""

    def _page_query(self, number: int) -> str:
        page = urlencode({"page": number}) if number > 1 else ""
        return "&".join(part for part in (self.query, page) if part)


@dataclass(frozen=True)
class ListQuery:
    """What a list's URL asks for: parse it with ``list_query``, narrow and order the rows
    with ``search`` and ``sort``, then ``paginate`` them."""

    search: str
    sort: str
    default_sort: str
    columns: tuple[str, ...]
    page: str

    def paginate(self, rows: QuerySet[Any], *, per_page: int = PER_PAGE) -> Listing:
        """The page of ``rows`` (already searched and ordered) asked for: the first when
        ``page`` is not a number, the last when it is past the end."""
        page = Paginator(rows, per_page).get_page(self.page)
        headers = {}
        for column in self.columns:
            # A header sorts ascending; clicked again on the sorted column, it reverses.
            aria = {column: "ascending", f"-{column}": "descending"}.get(self.sort, "")
            wanted = f"-{column}" if self.sort == column else column
            headers[column] = SortColumn(query=_query(self.search, wanted, self.default_sort), aria_sort=aria)
        return Listing(
            search=self.search, sort=self.sort, default_sort=self.default_sort, page=page, columns=headers
        )


def list_query(params: QueryDict, *, columns: Sequence[str], default_sort: str) -> ListQuery:
    """The search, sort and page a list's URL asks for; nonsense falls back to defaults."""
    return ListQuery(
        search=parse_search(params),
        sort=parse_sort(params, columns, default_sort),
        default_sort=default_sort,
        columns=tuple(columns),
        page=params.get("page", "")[:20],
    )
