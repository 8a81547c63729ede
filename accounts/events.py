"""Events written in bulk: the token endpoint's, without a query per token.

The token endpoint is the hottest path there is, so its events (one per token issued, one
per request refused, each with its grant type) cost no SQL while it answers: each process
keeps them in memory and writes them to the audit log (``AuditEntry``) in one statement
(``write``) when the oldest is ``TOKEN_STATS_FLUSH_SECONDS`` old or ``FLUSH_AT`` are
waiting. That is checked when a request has finished (``request_finished``: the response
has been sent, so no one waits for the write), and the process writes what it holds when it
exits cleanly (``atexit``: gunicorn's graceful worker exit on a restart, a deploy or
``max_requests``). This is the shape of ``authz.oauth.issuance_counts``, which counts the
same tokens per day for the stats; the two share their interval.

Each event keeps the time it happened, its address and user agent (read from the request
while it is answered); the person a token was issued to is named by their OIDC ``sub`` and
looked up once per write for all the events written together.

What a crash can lose: a process that dies without a clean exit (SIGKILL, out of memory,
gunicorn killing a worker past its timeout) loses the events it had not written yet. A
write that fails keeps them for the next one (up to ``KEEP_AT_MOST``, then the oldest go).
"""

from __future__ import annotations

import atexit
import json
import logging
import re
import threading
import time
import uuid
from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.core.signals import request_finished
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from .audit import CLIENT_ACTOR_PREFIX, request_context
from .models import AuditEntry, User
from .request_id import current_request_id

logger = logging.getLogger(__name__)

FLUSH_AT = 500  # events waiting: written at the next finished request, whatever their age
KEEP_AT_MOST = 50_000  # events kept in memory while the database cannot take them


class PendingEvent(NamedTuple):
    """One event not yet written: what an ``AuditEntry`` will hold."""

    at: datetime
    action: str
    client_id: str
    audience: str
    subject: str  # the person's OIDC sub ("" for none), resolved when written
    ip: str | None
    user_agent: str
    details: dict[str, Any]
    request_id: str  # the request's X-Request-ID (accounts.request_id)


_lock = threading.Lock()
_pending: list[PendingEvent] = []
_oldest: float | None = None  # time.monotonic() of the oldest event not yet written


def _text(value: str) -> str:
    # Request input may hold NUL, which PostgreSQL stores in no text or JSON column: one such
    # event would make every write of the batch fail, again and again.
    return value.replace("\x00", "\ufffd")


def _texts(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_texts(key): _texts(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_texts(item) for item in value]
    return value


def event_later(
    *, action: str, client_id: str = "", audience: str = "", subject: str = "", details: dict[str, Any]
) -> None:
    """Record an event of the request being answered: kept in this process, written later.

    Never a token, code or secret in ``details``. NUL characters are replaced when the
    batch is written (``write``), once for all its events, not here on the hot path.
    """
    global _oldest
    ip, user_agent = request_context()
    event = PendingEvent(
        timezone.now(),
        action[:60],
        client_id[:100],
        audience[:200],
        subject,
        ip,
        user_agent,
        details,
        current_request_id(),
    )
    with _lock:
        _pending.append(event)
        if _oldest is None:
            _oldest = time.monotonic()


def take() -> list[PendingEvent]:
    """This process's events not yet written, which it no longer holds."""
    global _pending, _oldest
    with _lock:
        taken, _pending, _oldest = _pending, [], None
    return taken


def _give_back(events: list[PendingEvent]) -> None:
    global _pending, _oldest
    with _lock:
        _pending = [*events, *_pending][-KEEP_AT_MOST:]
        _oldest = time.monotonic() if _oldest is None else _oldest


def flush() -> None:
    """Write this process's events; on a database error they are kept for the next flush
    and the error is raised."""
    events = take()
    if not events:
        return
    try:
        write(events)
    except DatabaseError:
        _give_back(events)
        raise


def _people(events: list[PendingEvent]) -> dict[str, tuple[int, str]]:
    """sub -> (pk, email) of the people the events name, in one query."""
    subjects = set()
    for event in events:
        try:
            subjects.add(uuid.UUID(event.subject))
        except ValueError:
            continue  # no person (a machine client's token, a refusal)
    if not subjects:
        return {}
    rows = User.objects.filter(sub__in=subjects).values_list("sub", "pk", "email")
    return {str(sub): (pk, email) for sub, pk, email in rows}


_COLUMNS: tuple[str, ...] = ("at", "actor_id", "actor_label", "action", "target_type", "target_id")
_COLUMNS += ("target_label", "ip", "user_agent", "client_id", "audience", "details", "request_id")


def _rows(events: list[PendingEvent]) -> list[dict[str, Any]]:
    people = _people(events)
    rows = []
    for event in events:
        person_id, email = people.get(event.subject, (None, ""))
        if email:
            label = email
        elif event.client_id:
            label = f"{CLIENT_ACTOR_PREFIX}{event.client_id}"
        else:
            label = "anonymous"
        rows.append(
            {
                "at": event.at,
                "actor_id": person_id,
                "actor_label": label,
                "action": event.action,
                "target_type": "",
                "target_id": "",
                "target_label": "",
                "ip": event.ip,
                "user_agent": event.user_agent,
                "client_id": event.client_id,
                "audience": event.audience,
                "details": event.details,
                "request_id": event.request_id,
            }
        )
    return rows


def write(events: list[PendingEvent]) -> None:
    """Add ``events`` to the audit log, in one statement.

    Not ``bulk_create``: a model instance and its compiled values cost about 45 µs a row,
    more than the rest of the event, and a row is a token (``make bench``). On PostgreSQL
    the rows travel as one JSON parameter that the server unpacks
    (``json_populate_recordset``), so the process only serialises them; elsewhere each
    field adapts its own values for one ``executemany``.
    """
    rows = _rows(events)
    table, quote = AuditEntry._meta.db_table, connection.ops.quote_name
    fields = [field for field in AuditEntry._meta.concrete_fields if field.attname in _COLUMNS]
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {quote(table)} ({columns}) SELECT {columns} "  # noqa: S608 - model's names
                f"FROM json_populate_recordset(NULL::{quote(table)}, %s)",
                [_without_nul(json.dumps(rows, default=_iso))],
            )
            return
        placeholders = ", ".join(["%s"] * len(fields))
        with transaction.atomic():
            cursor.executemany(
                f"INSERT INTO {quote(table)} ({columns}) VALUES ({placeholders})",  # noqa: S608 - model's names
                [
                    [field.get_db_prep_save(_texts(row[field.attname]), connection) for field in fields]
                    for row in rows
                ],
            )


# A JSON escape of NUL (``\u0000``) that is not an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _without_nul(document: str) -> str:
    """``document`` (JSON) with every NUL in its strings turned into U+FFFD: PostgreSQL
    stores NUL in no text or JSON column, and one would fail the whole batch. One pass over
    the batch instead of a walk through every event's values."""
    return _JSON_NUL.sub(lambda match: match.group(1) + "\\ufffd", document)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def flush_when_due(**_signal: Any) -> None:
    """``request_finished`` receiver: flush once the oldest event is old enough, or many
    wait. A failure is logged, not raised: the response has been sent."""
    oldest = _oldest  # read without the lock: a stale answer only moves the flush a request
    if oldest is None or (
        time.monotonic() - oldest < settings.TOKEN_STATS_FLUSH_SECONDS and len(_pending) < FLUSH_AT
    ):
        return
    try:
        flush()
    except DatabaseError:
        logger.exception("Could not write the events; kept for the next attempt.")


def flush_at_exit() -> None:
    """``atexit`` hook: what the process still holds, written before it ends."""
    try:
        flush()
    except DatabaseError:
        lost = len(take())
        logger.exception("Could not write the events at exit: %d events are lost.", lost)


request_finished.connect(flush_when_due, dispatch_uid="accounts.events")
atexit.register(flush_at_exit)
