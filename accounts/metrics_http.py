"""``/metrics`` for Prometheus, and the timing of every other request: one middleware.

It sits near the top of ``MIDDLEWARE``: above ``SecurityMiddleware`` and ``CommonMiddleware``,
so a scraper that reaches a server by its address over plain http is neither redirected to
https nor refused for its Host header, and so that the time it measures includes the rest
of the middleware. ``/metrics`` is answered here, before any of that runs.

Who may scrape: a request with ``Authorization: Bearer <METRICS_TOKEN>`` (when a token is
set), or one from an address in ``METRICS_ALLOWED_ADDRESSES``, derived through the trusted
proxies (``accounts.throttle.client_ip``) so that a forwarded-for header only counts when a
proxy of ours wrote it. Anyone else gets 401 with a Bearer challenge when a token is set, or
403 when none is: no credential would help then.

With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn, ``config/gunicorn.py``), the answer adds up
the files every worker writes there; without it, this process's own values.
"""

from __future__ import annotations

import hmac
import json
import os
import time
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from . import metrics
from .metrics_celery import CeleryCollector
from .throttle import address_in, check_networks, client_ip, networks

METRICS_PATH = "/metrics"
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret

_celery = CeleryCollector()
REGISTRY.register(_celery)  # single-process mode; the multiprocess registry adds its own


def check_metrics_addresses() -> None:
    """Refuse to start with a METRICS_ALLOWED_ADDRESSES entry that is not an address or a network."""
    check_networks("METRICS_ALLOWED_ADDRESSES")


def _address_allowed(address: str | None) -> bool:
    allowed = networks(tuple(settings.METRICS_ALLOWED_ADDRESSES))
    return address is not None and address_in(address, allowed)


def _bearer(request: HttpRequest) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def scrape_refusal(request: HttpRequest) -> HttpResponse | None:
    """None when ``request`` may read the metrics, else the response that refuses it."""
    token, presented = settings.METRICS_TOKEN, _bearer(request)
    if token and presented is not None and hmac.compare_digest(presented.encode(), token.encode()):
        return None
    if _address_allowed(client_ip(request)):
        return None
    if not token:
        return HttpResponse("Metrics are not open to this address.\n", status=HTTPStatus.FORBIDDEN)
    response = HttpResponse("Metrics need a bearer token.\n", status=HTTPStatus.UNAUTHORIZED)
    # RFC 6750 §3: a wrong token is named as such; a missing one gets the bare challenge.
    challenge = 'Bearer realm="metrics"'
    response["WWW-Authenticate"] = challenge + (', error="invalid_token"' if presented else "")
    return response


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    # Built per scrape, as prometheus_client's multiprocess mode asks: the collector reads
    # whatever files the workers have written by now.
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(_celery)
    return registry


def metrics_response(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: the text format Prometheus asks for in its Accept header."""
    refusal = scrape_refusal(request)
    if refusal is not None:
        return refusal
    if request.method != "GET":
        response = HttpResponse(status=HTTPStatus.METHOD_NOT_ALLOWED)
        response["Allow"] = "GET"
        return response
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = HttpResponse(encoder(_registry()), content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


def _oauth_error(response: HttpResponseBase) -> str | None:
    """The ``error`` of an RFC 6749 §5.2 JSON error response, if it is one."""
    if getattr(response, "streaming", False) or not response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return None
    try:
        body = json.loads(getattr(response, "content", b""))
    except (ValueError, UnicodeDecodeError):
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


class MetricsMiddleware:
    """Answers ``/metrics``; times every other request and counts the token endpoint's
    errors, whichever layer answered them (rate limits, validation, oauthlib, a 500)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info == METRICS_PATH:
            return metrics_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        metrics.request_observed(
            path=request.path_info,
            method=request.method or "",
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        if request.path_info == TOKEN_PATH and response.status_code >= HTTPStatus.BAD_REQUEST:
            error = _oauth_error(response)
            if error is not None:
                metrics.token_error(error)
        return response
