"""What operators configure: health checks, metrics, request logs and the signing-key schedule.

Read by ``base``; like every setting, each comes from an environment variable.
"""

from __future__ import annotations

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# --- Signing keys: scheduled rotation --------------------------------------------------------
# Every SIGNING_KEY_ROTATION_DAYS the current keys retire and the next ones sign (0: only by
# hand, from the dashboard or the Management API). The next keys are published in the JWKS
# SIGNING_KEY_PUBLISH_LEAD_DAYS before they sign, so that relying parties' caches hold them
# by then; the beat task checks every SIGNING_KEY_ROTATION_CHECK_SECONDS.
SIGNING_KEY_ROTATION_DAYS = float(env_str("SIGNING_KEY_ROTATION_DAYS", "90"))
SIGNING_KEY_PUBLISH_LEAD_DAYS = float(env_str("SIGNING_KEY_PUBLISH_LEAD_DAYS", "7"))
SIGNING_KEY_ROTATION_CHECK_SECONDS = float(env_str("SIGNING_KEY_ROTATION_CHECK_SECONDS", "3600"))
