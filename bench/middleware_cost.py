"""What the operations middlewares cost per request, measured in one process.

``python -m bench.middleware_cost`` times a trivial view answering ``POST /oauth/token``
(a small JSON body, as a token response) alone and behind each of ``HealthMiddleware``,
``RequestLogMiddleware`` and ``MetricsMiddleware``, then behind all three, with what
production runs: the JSON log format written to a file (``/dev/null``) and prometheus_client
in multiprocess mode (a temporary ``PROMETHEUS_MULTIPROC_DIR``). Each figure is the median
of several rounds of many requests; the cost is the difference from the bare view. Set it
against a token's server CPU in ``make bench`` (``cpu srv`` of ``cc_form``).
"""

from __future__ import annotations

import logging.config
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence

from django.http import HttpRequest, HttpResponse

ROUNDS, REQUESTS = 5, 20_000


def _setup() -> None:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-middleware-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
    import django

    django.setup()
    from config.settings.operations import logging_config

    config = logging_config("json", "INFO")
    config["handlers"]["console"] = {
        "class": "logging.FileHandler",
        "filename": os.devnull,
        "formatter": "json",
        "filters": ["request_id"],
    }
    logging.config.dictConfig(config)


def _microseconds(handler: Callable[[HttpRequest], object], requests: Sequence[HttpRequest]) -> float:
    started = time.perf_counter()
    for request in requests:
        handler(request)
    return (time.perf_counter() - started) / len(requests) * 1e6


def main() -> None:
    _setup()
    from django.http import JsonResponse
    from django.test import RequestFactory
    from django.urls import resolve

    from accounts.health_middleware import HealthMiddleware
    from accounts.metrics_http import MetricsMiddleware
    from accounts.request_log import RequestLogMiddleware

    route = resolve("/oauth/token")

    def view(request: HttpRequest) -> HttpResponse:
        request.resolver_match = route  # as URL resolution leaves it for the request line
        return JsonResponse({"access_token": "x" * 600, "token_type": "Bearer", "expires_in": 3600})

    handlers: dict[str, Callable[[HttpRequest], object]] = {
        "bare view": view,
        "HealthMiddleware": HealthMiddleware(view),
        "RequestLogMiddleware": RequestLogMiddleware(view),
        "MetricsMiddleware": MetricsMiddleware(view),
        "all three": HealthMiddleware(RequestLogMiddleware(MetricsMiddleware(view))),
    }
    factory = RequestFactory()
    timings: dict[str, list[float]] = {name: [] for name in handlers}
    for _ in range(ROUNDS):  # interleaved, so that a machine that drifts weighs on all alike
        for name, handler in handlers.items():
            requests = [
                factory.post("/oauth/token", {"grant_type": "client_credentials"}) for _ in range(REQUESTS)
            ]
            timings[name].append(_microseconds(handler, requests))
    bare = statistics.median(timings["bare view"])
    print(f"{'':22} {'µs/request':>10} {'cost µs':>8}")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name:22} {median:10.1f} {median - bare:8.1f}")


if __name__ == "__main__":
    main()
