"""The request id: one short token per request, in every log line the request causes, in
the audit entries it writes and in the Celery tasks it enqueues, so that one search finds
all of them.

A proxy or a client may choose it (``X-Request-ID``) when it is a plain token; anything else
that arrives in the header (a newline that would forge a log line, markup, an overlong
value) is replaced with a new id, never echoed. The id lives in a context variable for the
duration of the request (``accounts.request_log.RequestLogMiddleware`` sets it) and of a
task; ``RequestIdFilter``, on the log handler, adds it to every record.

Celery: ``before_task_publish`` copies the id into the task message's headers, and the
worker's ``task_prerun``/``task_postrun`` set and reset it around the task. A task run
eagerly (no broker) runs inside the request and already sees it. The receivers connect when
this module is imported, which the logging configuration does in every process (web and
worker) by naming the filter.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar, Token
from typing import Any

from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun
from django.http import HttpRequest

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's or a client's id may be: enough for a UUID, a trace id or "host:counter",
# and nothing that could break a log line, a header or a JSON string.
_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TASK_HEADER = "request_id"  # the name of the task message header that carries it
REQUEST_ID_ATTRIBUTE = "request_id"  # the request's own copy, for lines logged after it

_request_id: ContextVar[str] = ContextVar("request_id", default="")


def request_id_from(value: str | None) -> str:
    """``value`` (an ``X-Request-ID`` header) when it is a safe token, else a new id."""
    if value is not None and _SAFE.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request (or task) being answered; "" outside one."""
    return _request_id.get()


def request_id_begin(value: str) -> Token[str]:
    """From now until ``request_id_end``, ``value`` is the current request id."""
    return _request_id.set(value)


def request_id_end(token: Token[str]) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (or "") to every record the handler writes, and keeps the raw
    path out of Django's own request messages ("Not Found: /email/verify/<a token>/"): a
    path can hold a token, so it is replaced by the route that matched it."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if not getattr(record, "request_id", ""):
            # Django logs a 4xx response once the middleware has finished: from the request.
            record.request_id = _request_id.get() or getattr(request, REQUEST_ID_ATTRIBUTE, "")
        if isinstance(request, HttpRequest) and isinstance(record.args, tuple):
            record.args = _without_path(record.args, request)
        return True


def path_template(request: HttpRequest) -> str:
    """The route that matched ``request`` ("/oauth/token", "/dashboard/logs/<int:pk>/"),
    never the path itself; "<unmatched>" when no route did (yet)."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.route is None:
        return "<unmatched>"
    return "/" + match.route


def _without_path(args: tuple[Any, ...], request: HttpRequest) -> tuple[Any, ...]:
    paths = {request.path, request.path_info}
    # django.utils.log.log_response escapes its arguments before logging them.
    paths |= {path.encode("unicode_escape").decode("ascii") for path in tuple(paths)}
    return tuple(path_template(request) if isinstance(arg, str) and arg in paths else arg for arg in args)


# --- Celery ---------------------------------------------------------------------------------


@before_task_publish.connect(weak=False, dispatch_uid="accounts.request_id.publish")
def _task_publish(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    value = _request_id.get()
    if value and headers is not None:
        headers[TASK_HEADER] = value


# A worker's tasks, by task id: the token to reset after each one.
_task_tokens: dict[str, Token[str]] = {}


@task_prerun.connect(weak=False, dispatch_uid="accounts.request_id.prerun")
def _task_prerun(task_id: str | None = None, task: Any = None, **_kwargs: Any) -> None:
    value = getattr(getattr(task, "request", None), TASK_HEADER, None)
    # No header: a task run eagerly, inside the request whose id it already sees, or one
    # published by a process that had none (beat).
    if task_id is not None and isinstance(value, str) and _SAFE.fullmatch(value):
        _task_tokens[task_id] = _request_id.set(value)


@task_postrun.connect(weak=False, dispatch_uid="accounts.request_id.postrun")
def _task_postrun(task_id: str | None = None, **_kwargs: Any) -> None:
    token = _task_tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        _request_id.reset(token)


@setup_logging.connect(weak=False, dispatch_uid="accounts.request_id.logging")
def _worker_logging(**_kwargs: Any) -> None:
    """A worker keeps Django's ``LOGGING`` (JSON lines with request ids) instead of Celery's
    own configuration of the root logger: Celery leaves logging alone when this signal has a
    receiver, and Django configured it already when the worker set Django up."""
