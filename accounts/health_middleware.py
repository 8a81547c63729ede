"""``/health/live`` and ``/health/ready``, answered before any other middleware runs.

First in settings.MIDDLEWARE, because a load balancer or Kubernetes probes each instance by
its address, over plain HTTP, with whatever Host header it likes: nothing after this runs for
a probe. So no HTTPS redirect and no ALLOWED_HOSTS check (SecurityMiddleware,
CommonMiddleware), no session, CSRF or CSP, no audit context or lockout, and no view, so no
rate limit counts it (they are counted by the views they protect, in the cache).

Liveness touches nothing: the process answers. Readiness runs settings.HEALTH_CHECKS
(accounts.health, apis.health), each in its own thread, all at once, and waits for them at
most HEALTH_CHECK_TIMEOUT_SECONDS: a dependency that hangs is reported as a timeout instead of
holding the probe until the load balancer's own timeout, which would say nothing about what
is wrong. A failure is named by the check, with its exception's class or the check's fixed
phrase, never the message: this answer is unauthenticated, and messages name hosts and users.
The message goes to the log, for the operator.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from http import HTTPStatus
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.module_loading import import_string

from .health import CheckFailed

logger = logging.getLogger(__name__)

LIVE, READY = "/health/live", "/health/ready"
METHODS = ("GET", "HEAD")


class _Outcome(NamedTuple):
    seconds: float
    error: Exception | None


class _CheckThread:
    """One check's own daemon thread. A probe waits for a run at most the timeout; a run still
    going (its dependency hangs) is joined by the probes that follow instead of being started
    again, so a hung dependency holds one thread per check, not one per probe."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._run: Future[_Outcome] | None = None
        self._runs: queue.SimpleQueue[Future[_Outcome]] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name=f"health {path}", daemon=True).start()

    def start(self) -> Future[_Outcome]:
        """The run in progress, or a new one."""
        with self._lock:
            if self._run is None or self._run.done():
                self._run = Future()
                self._runs.put(self._run)
            return self._run

    def _serve(self) -> None:
        while True:
            run = self._runs.get()
            began = time.monotonic()
            error: Exception | None = None
            try:
                import_string(self.path)()
            except Exception as raised:
                error = raised
            seconds = time.monotonic() - began
            try:
                # The connections this thread opened: a probe every few seconds must not keep
                # one each (nor keep a test database from being dropped).
                connections.close_all()
            except Exception:
                logger.warning("Health check %s: closing its database connections failed", self.path)
            run.set_result(_Outcome(seconds, error))


_threads: dict[tuple[int, str], _CheckThread] = {}
_threads_lock = threading.Lock()


def _thread_for(path: str) -> _CheckThread:
    # Keyed by process too: a forked worker inherits the dictionary but none of the threads.
    key = (os.getpid(), path)
    with _threads_lock:
        if key not in _threads:
            _threads[key] = _CheckThread(path)
        return _threads[key]


def _reason(error: Exception) -> str:
    """What the probe may be told: the check's fixed phrase, or the class of the error at
    the bottom of the chain (psycopg's under Django's, redis-py's under kombu's)."""
    if isinstance(error, CheckFailed):
        return error.reason
    root: BaseException = error
    while root.__cause__ is not None:
        root = root.__cause__
    return type(root).__name__


def _milliseconds(seconds: float) -> float:
    return round(seconds * 1000, 1)


def readiness() -> tuple[bool, dict[str, dict[str, Any]]]:
    """Whether every check passed, and each check's answer under its name (the last part of
    its dotted path), in the order of settings.HEALTH_CHECKS."""
    timeout = float(settings.HEALTH_CHECK_TIMEOUT_SECONDS)
    runs = [(path, _thread_for(path).start()) for path in settings.HEALTH_CHECKS]
    deadline = time.monotonic() + timeout
    checks: dict[str, dict[str, Any]] = {}
    for path, run in runs:
        name = path.rpartition(".")[2]
        try:
            outcome = run.result(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            logger.warning("Readiness check %s did not answer within %s s", name, timeout)
            checks[name] = {"status": "fail", "latency_ms": _milliseconds(timeout), "error": "timeout"}
            continue
        checks[name] = {"status": "ok", "latency_ms": _milliseconds(outcome.seconds)}
        if outcome.error is not None:
            reason, detail = _reason(outcome.error), str(outcome.error)
            if detail in ("", reason):
                logger.warning("Readiness check %s failed: %s", name, reason)
            else:
                logger.warning("Readiness check %s failed (%s): %s", name, reason, detail)
            checks[name].update(status="fail", error=reason)
    return all(check["status"] == "ok" for check in checks.values()), checks


def _ready_response() -> JsonResponse:
    ready, checks = readiness()
    response = JsonResponse(
        {"status": "ok" if ready else "fail", "checks": checks},
        status=HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE,
    )
    # Each failing check has logged its own warning; Django's "Service Unavailable" error for
    # every probe while a dependency is down would only bury them.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class HealthMiddleware:
    """Answers the health probes itself; every other request goes on down the stack."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info.removesuffix("/")
        if path not in (LIVE, READY):
            return self.get_response(request)
        response: HttpResponse
        if request.method not in METHODS:
            response = JsonResponse({"error": "method_not_allowed"}, status=HTTPStatus.METHOD_NOT_ALLOWED)
            response["Allow"] = ", ".join(METHODS)
        elif path == LIVE:
            response = JsonResponse({"status": "ok"})
        else:
            response = _ready_response()
        if request.method == "HEAD":
            # The status is the answer; a body after HEAD is dropped by the server with a warning.
            response.content = b""
        # A proxy or the probe's client must ask again, never answer from a stored copy.
        response["Cache-Control"] = "no-store"
        return response
