"""What the server counts for Prometheus, and the one function per event that counts it.

Every process imports this module (gunicorn workers, a Celery worker, ``manage.py``), so
defining a metric here never talks to anything: prometheus_client keeps the values in this
process, or, when ``PROMETHEUS_MULTIPROC_DIR`` is set before it is imported (gunicorn:
``config/gunicorn.py``), in files there that ``/metrics`` adds up across the workers
(``metrics_http``). Only counters and histograms: their multiprocess sums are exact.

Every label takes its values from a short, known list (grant types, registered APIs and
clients, OAuth error codes, five routes), never from what a request says unchecked: a label
value a client could choose would let it create series without end.
"""

from __future__ import annotations

import re

from prometheus_client import Counter, Histogram, disable_created_metrics

PREFIX = "abc_identity_"

# The ``*_created`` series say when a process first counted; across gunicorn workers that
# restart they mean nothing (the multiprocess collector leaves them out anyway).
disable_created_metrics()

TOKENS_ISSUED = Counter(
    f"{PREFIX}tokens_issued",
    "Access tokens issued, by grant type, API identifier (empty: /userinfo only) and client id.",
    ["grant_type", "audience", "client_id"],
)
TOKEN_ERRORS = Counter(
    f"{PREFIX}token_errors",
    "Error responses of /oauth/token, by OAuth error code (temporarily_unavailable: rate limited).",
    ["error"],
)
SIGN_INS = Counter(f"{PREFIX}sign_ins", "Sign-ins completed (the second factor included, when asked).")
SIGN_IN_FAILURES = Counter(
    f"{PREFIX}sign_in_failures",
    "Sign-in attempts refused, by reason: wrong_password, unknown_person, not_an_email, "
    "deactivated, locked_out (while the account is locked), second_factor, passkey.",
    ["reason"],
)
LOCKOUTS = Counter(f"{PREFIX}lockouts", "Accounts locked after too many failed sign-ins (django-axes).")
REVOCATIONS = Counter(
    f"{PREFIX}revocations",
    "Revocations written to the revocation list, by what they name: grant, user, client, "
    "audience, user-audience, client-audience.",
    ["kind"],
)
REQUEST_SECONDS = Histogram(
    f"{PREFIX}http_request_duration_seconds",
    "Time to answer a request, by route (token, authorize, api, dashboard, other), method and status class.",
    ["route", "method", "status"],
    # 1 ms to 5 s: a cached token request takes a few milliseconds, a slow page seconds.
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

# Routes are told by path, not by URL name: the middleware that times a request sees it
# before and after URL resolution alike, also when nothing resolved (404).
_ROUTES = {"/oauth/token": "token", "/authorize": "authorize"}
_PREFIXES = (("/api/", "api"), ("/dashboard/", "dashboard"))
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# An OAuth error code as RFC 6749 §5.2 spells them; anything else is counted as "other".
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")


def route_of(path: str) -> str:
    """The latency histogram's ``route`` for a request path."""
    if path in _ROUTES:
        return _ROUTES[path]
    for prefix, route in _PREFIXES:
        if path.startswith(prefix):
            return route
    return "other"


def request_observed(*, path: str, method: str, status: int, seconds: float) -> None:
    """One request answered in ``seconds``."""
    REQUEST_SECONDS.labels(
        route=route_of(path),
        method=method if method in _METHODS else "other",
        status=f"{status // 100}xx",
    ).observe(seconds)


def token_issued(*, grant_type: str, audience: str, client_id: str) -> None:
    """One access token issued (``authz.oauth.issuance_counts`` calls this for every one)."""
    # The device grant by its short name, as the logs name it (not its URN).
    short = grant_type.rsplit(":", 1)[-1]
    TOKENS_ISSUED.labels(grant_type=short, audience=audience, client_id=client_id).inc()


def token_error(error: str) -> None:
    """One error response of the token endpoint, with its ``error`` code."""
    TOKEN_ERRORS.labels(error=error if _ERROR_CODE.fullmatch(error) else "other").inc()


def sign_in_succeeded() -> None:
    SIGN_INS.inc()


def sign_in_failed(reason: str) -> None:
    SIGN_IN_FAILURES.labels(reason=reason).inc()


def locked_out() -> None:
    LOCKOUTS.inc()


def revoked(kinds: list[str]) -> None:
    """Revocations of these kinds (``apis.revocation.Revocation.Kind`` values) written."""
    for kind in kinds:
        REVOCATIONS.labels(kind=kind).inc()
