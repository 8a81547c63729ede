"""Counting the access tokens issued, without a query per token.

The token endpoint is the hottest path there is, so issuing a token costs no SQL: each
process counts in memory, by UTC day, grant type, audience and client, and adds what it
counted to ``authz.models.TokenIssuance`` in one transaction of increments when the oldest
count is ``TOKEN_STATS_FLUSH_SECONDS`` old. That is checked when a request has finished
(``request_finished``: the response has been sent, so no one waits for the write); the
process also writes what it holds when it exits cleanly (``atexit``: gunicorn's graceful
worker exit on a restart, a deploy or ``max_requests``), and before the stats are read
(``flush``), so a test or a single-process server sees its own counts at once.

What a crash can lose: a process that dies without a clean exit (SIGKILL, out of memory,
the machine failing, gunicorn killing a worker past its timeout) loses the counts it had not
written yet: at most ``TOKEN_STATS_FLUSH_SECONDS`` of that one process's tokens, or a little
more when it had no request to finish since. A write that fails (the database unreachable)
keeps its counts for the next one. The tokens themselves are unaffected.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.core.signals import request_finished
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F

from accounts import metrics
from authz.models import TokenIssuance

logger = logging.getLogger(__name__)


class IssuanceKey(NamedTuple):
    """What one count is counted by: a row of ``TokenIssuance``."""

    day: date
    grant_type: str
    audience: str
    client_id: str


_lock = threading.Lock()
_counts: Counter[IssuanceKey] = Counter()
_oldest: float | None = None  # time.monotonic() of the oldest count not yet written


def count(*, grant_type: str, audience: str, client_id: str) -> None:
    """One access token issued now: counted in this process, written later; and for
    Prometheus (``accounts.metrics``), which every path that issues a token reaches here."""
    global _oldest
    metrics.token_issued(grant_type=grant_type, audience=audience, client_id=client_id)
    key = IssuanceKey(datetime.now(UTC).date(), grant_type, audience, client_id)
    with _lock:
        _counts[key] += 1
        if _oldest is None:
            _oldest = time.monotonic()


def take() -> Counter[IssuanceKey]:
    """This process's counts not yet written, which it no longer holds."""
    global _counts, _oldest
    with _lock:
        taken, _counts, _oldest = _counts, Counter(), None
    return taken


def _give_back(counts: Counter[IssuanceKey]) -> None:
    global _oldest
    with _lock:
        _counts.update(counts)
        _oldest = time.monotonic() if _oldest is None else _oldest


def flush() -> None:
    """Add this process's counts to the table, in one transaction; on a database error
    they are kept for the next flush and the error is raised."""
    counts = take()
    if not counts:
        return
    try:
        write(counts)
    except DatabaseError:
        _give_back(counts)
        raise


def write(counts: Counter[IssuanceKey]) -> None:
    """Add ``counts`` to the table in one transaction."""
    # Increments, never read-modify-write: two processes adding to one row both count (the
    # update waits on the other's row lock). Keys in one order everywhere, so two flushes
    # never wait on each other's rows crosswise.
    with transaction.atomic():
        for key in sorted(counts):
            rows = TokenIssuance.objects.filter(**key._asdict())
            if rows.update(count=F("count") + counts[key]):
                continue
            try:
                with transaction.atomic():
                    TokenIssuance.objects.create(**key._asdict(), count=counts[key])
            except IntegrityError:  # another process created the row first
                rows.update(count=F("count") + counts[key])


def flush_when_due(**_signal: Any) -> None:
    """``request_finished`` receiver: flush once the oldest count is old enough. A failure
    is logged, not raised: the response has been sent and the counts wait for the next."""
    oldest = _oldest  # read without the lock: a stale answer only moves the flush a request
    if oldest is None or time.monotonic() - oldest < settings.TOKEN_STATS_FLUSH_SECONDS:
        return
    try:
        flush()
    except DatabaseError:
        logger.exception("Could not write the token counts; kept for the next attempt.")


def flush_at_exit() -> None:
    """``atexit`` hook: what the process still holds, written before it ends."""
    try:
        flush()
    except DatabaseError:
        lost = sum(take().values())
        logger.exception("Could not write the token counts at exit: %d tokens go uncounted.", lost)


request_finished.connect(flush_when_due, dispatch_uid="authz.token_issuance_counts")
atexit.register(flush_at_exit)
