"""The logs list's free-text search and its two orders, newest or oldest first, both paged
by key (``accounts.logs.log_page``): a page costs the same however deep, either way."""

from __future__ import annotations

import re

from django.db.models import QuerySet
from django.http import QueryDict

from .listing import parse_search, parse_sort, search_filter
from .logs import LogPage, log_page
from .models import AuditEntry

# What the search box looks in: the event's type, who, what it concerns, its application and API.
SEARCHED = ("action", "actor_label", "target_label", "client_id", "audience")
OLDEST_FIRST = "at"
NEWEST_FIRST = "-at"
# A cursor before every entry: read forward from it, the first page is the oldest one.
_START = "0_0"
# The shape of log_page's cursors (what it ignores, this ignores too).
_CURSOR = re.compile(r"\d{1,16}_\d{1,16}", re.ASCII)


def log_list_params(params: QueryDict) -> tuple[str, str]:
    """The search (``q``) and the order (``sort``: ``at`` oldest first, else newest first)."""
    return parse_search(params), parse_sort(params, (OLDEST_FIRST,), NEWEST_FIRST)


def log_search(entries: QuerySet[AuditEntry], search: str) -> QuerySet[AuditEntry]:
    """The ``entries`` where any of ``SEARCHED`` contains ``search``, ignoring case."""
    return entries.filter(search_filter(search, SEARCHED))


def log_page_sorted(
    entries: QuerySet[AuditEntry], *, sort: str, before: str = "", after: str = ""
) -> LogPage:
    """The page of ``entries`` the cursors ask for, in the ``sort`` order.

    The cursors mean the same in both orders (``after``: newer than, ``before``: older
    than), and so do the page's ``newer`` and ``older``: only the first page, and which way
    a page reads, differ. Oldest first reads log_page's pages backwards.
    """
    if sort != OLDEST_FIRST:
        return log_page(entries, before=before, after=after)
    if _CURSOR.fullmatch(after):
        page = log_page(entries, after=after)
    elif _CURSOR.fullmatch(before):
        page = log_page(entries, before=before)
    else:
        page = log_page(entries, after=_START)
        return LogPage(page.entries[::-1], page.newer, None)  # nothing is older than the first
    return LogPage(page.entries[::-1], page.newer, page.older)
