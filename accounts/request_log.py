"""One log line per request (logger ``abc.requests``), and the JSON format of every line.

The line names the route, never the path or the query string (they can hold codes,
tokens and email addresses): method, path template, status, duration, the client and the
person when the code that answered learnt them (``request_log_annotate``), the address
as derived through the trusted proxies, and the request id (``accounts.request_id``).

Health checks and metrics scrapes come every few seconds: their lines are DEBUG, out of
the log at the usual INFO.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty
from pythonjsonlogger.json import JsonFormatter

from .request_id import (
    REQUEST_ID_ATTRIBUTE,
    REQUEST_ID_HEADER,
    path_template,
    request_id_begin,
    request_id_end,
    request_id_from,
)
from .throttle import client_ip

logger = logging.getLogger("abc.requests")

QUIET_PATHS = ("/health/", "/metrics")  # prefixes whose lines are DEBUG
_METHOD = re.compile(r"[A-Z]{1,16}")


@dataclass
class _Learnt:
    client_id: str = ""
    user_id: str = ""


_learnt: ContextVar[_Learnt | None] = ContextVar("request_log_learnt", default=None)


def request_log_annotate(*, client_id: str | None = None, user_id: str | None = None) -> None:
    """Name the OAuth client (its client id) or the person (their OIDC ``sub``) in the line
    of the request being answered; outside a request, nothing happens."""
    learnt = _learnt.get()
    if learnt is None:
        return
    if client_id:
        learnt.client_id = client_id
    if user_id:
        learnt.user_id = user_id


def _session_user_id(request: HttpRequest) -> str:
    # request.user is lazy: a request that never needed it (a token request, a static file)
    # does not pay a session and user query for its log line.
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject) and getattr(user, "_wrapped", empty) is empty:
        return ""
    # A person signed in to a session; DRF puts its own principal (a token's) here too.
    return str(user.sub) if isinstance(user, get_user_model()) else ""


class RequestLogMiddleware:
    """Gives the request its id (``X-Request-ID``, accepted or made), answers with it, and
    logs the request's line once the response is ready."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        setattr(request, REQUEST_ID_ATTRIBUTE, request_id)
        id_token = request_id_begin(request_id)
        learnt = _Learnt()
        learnt_token = _learnt.set(learnt)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            _log(request, response, learnt, (time.perf_counter() - started) * 1000)
            return response
        finally:
            _learnt.reset(learnt_token)
            request_id_end(id_token)


def _log(request: HttpRequest, response: HttpResponseBase, learnt: _Learnt, duration_ms: float) -> None:
    quiet = request.path_info.startswith(QUIET_PATHS)
    level = logging.DEBUG if quiet else logging.INFO
    if not logger.isEnabledFor(level):
        return
    method = request.method or ""
    method = method if _METHOD.fullmatch(method) else "<other>"
    route = path_template(request)
    logger.log(
        level,
        "%s %s %s %.0fms",
        method,
        route,
        response.status_code,
        duration_ms,
        extra={
            "method": method,
            "path": route,
            "status": response.status_code,
            "duration_ms": round(duration_ms, 1),
            "client_id": learnt.client_id or None,
            "user_id": learnt.user_id or _session_user_id(request) or None,
            "remote_addr": client_ip(request),
        },
    )


# --- The JSON lines -------------------------------------------------------------------------

# The fields a line may carry besides time, level, logger, request_id and message. Anything
# else a library attaches to a record stays out: Django's ``request`` (its repr is the full
# path with the query string) and Celery's ``data`` (a task's arguments) among them.
LOGGED_EXTRAS = ("method", "path", "status", "duration_ms", "client_id", "user_id", "remote_addr")


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: ``time`` (ISO 8601, UTC), ``level``, ``logger``,
    ``request_id``, ``message``, the request line's fields, and ``exc_info`` for an error."""

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["request_id"] = getattr(record, "request_id", "") or None
        log_data["message"] = record.message
        for name in LOGGED_EXTRAS:
            if hasattr(record, name):
                log_data[name] = getattr(record, name)
        for name in ("exc_info", "stack_info"):
            if message_dict.get(name):
                log_data[name] = message_dict[name]
