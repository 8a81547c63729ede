"""What operators configure: health checks, metrics, request logs and the signing-key schedule.

Read by ``base``; like every setting, each comes from an environment variable.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .env import env_list, env_str

# --- Health (/health/live, /health/ready) ----------------------------------------------------
# What readiness checks, in order: dotted paths to ``() -> None`` that raise when their
# dependency is not usable. Each one's name in the answer is the last part of its path.
HEALTH_CHECKS = [
    "accounts.health.database",
    "accounts.health.migrations",
    "accounts.health.cache",
    "accounts.health.broker",
    "apis.health.signing_key",
]
# A dependency that has not answered in this long counts as down (seconds).
HEALTH_CHECK_TIMEOUT_SECONDS = float(env_str("HEALTH_CHECK_TIMEOUT_SECONDS", "2"))

# --- Metrics (/metrics, Prometheus text format) ----------------------------------------------
# Who may scrape: a request bearing METRICS_TOKEN, or one from METRICS_ALLOWED_ADDRESSES
# (addresses or CIDRs, as derived through TRUSTED_PROXIES). With neither set, nobody may.
# Across gunicorn workers, prometheus_client's multiprocess mode reads the directory named by
# the PROMETHEUS_MULTIPROC_DIR environment variable (config/gunicorn.py empties it at start).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOWED_ADDRESSES = env_list("METRICS_ALLOWED_ADDRESSES")

# --- Logs ------------------------------------------------------------------------------------
# "json": one JSON object per line (production); "plain": text for a terminal (``make run``).
LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")

# Libraries that write request parameters at DEBUG: oauthlib logs refresh tokens and fresh
# authorization codes, Celery's pool a task's arguments (an email's reset link), Django's
# database backend every query's values (when DEBUG). LOG_LEVEL=DEBUG leaves them at this.
QUIET_LOGGERS = {
    "oauthlib": "WARNING",  # its INFO line quotes a request's whole URL
    "oauth2_provider": "INFO",
    "celery": "INFO",
    "kombu": "INFO",
    "django.db.backends": "INFO",
}


def logging_config(fmt: str, level: str) -> dict[str, Any]:
    """``LOGGING`` for lines in format ``fmt`` ("json" or "plain") from ``level`` up.

    Everything goes through the root's one handler, to standard error, with the request id
    (``accounts.request_id.RequestIdFilter``); one line per request comes from
    ``accounts.request_log``. Django's own handlers are replaced by it (its console handler
    would print unfiltered lines when DEBUG), and runserver's access line is dropped: it
    quotes the query string.
    """
    if fmt not in ("json", "plain"):
        raise ImproperlyConfigured(f"LOG_FORMAT is {fmt!r}: json or plain.")
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "accounts.request_id.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "accounts.request_log.JsonLineFormatter"},
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["request_id"]},
            "discard": {"class": "logging.NullHandler"},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": [], "level": _at_least(level, "INFO"), "propagate": True},
            "django.server": {"handlers": ["discard"], "propagate": False},
            **{name: {"level": _at_least(level, floor)} for name, floor in QUIET_LOGGERS.items()},
        },
    }


def _at_least(level: str, floor: str) -> str:
    return max(level, floor, key=lambda name: logging.getLevelNamesMapping().get(name, logging.INFO))


LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)

# --- Signing keys: scheduled rotation --------------------------------------------------------
# Every SIGNING_KEY_ROTATION_DAYS the current keys retire and the next ones sign (0: only by
# hand, from the dashboard or the Management API). The next keys are published in the JWKS
# SIGNING_KEY_PUBLISH_LEAD_DAYS before they sign, so that relying parties' caches hold them
# by then; the beat task checks every SIGNING_KEY_ROTATION_CHECK_SECONDS.
SIGNING_KEY_ROTATION_DAYS = float(env_str("SIGNING_KEY_ROTATION_DAYS", "90"))
SIGNING_KEY_PUBLISH_LEAD_DAYS = float(env_str("SIGNING_KEY_PUBLISH_LEAD_DAYS", "7"))
SIGNING_KEY_ROTATION_CHECK_SECONDS = float(env_str("SIGNING_KEY_ROTATION_CHECK_SECONDS", "3600"))
