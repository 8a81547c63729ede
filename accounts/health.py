"""Readiness checks (settings.HEALTH_CHECKS): each one a ``() -> None`` that raises when its
dependency cannot serve.

accounts.health_middleware runs them, each in its own thread and bounded by
HEALTH_CHECK_TIMEOUT_SECONDS, so a check here need not bound itself; where a client library
takes a timeout cheaply (the broker's) it is given one anyway, so the check's thread is freed
soon after the probe gave up on it.

What a probe is told of a failure is ``CheckFailed.reason`` or the exception's class name,
never its message: messages name hosts, users and URLs, and the probe is unauthenticated.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from kombu import Connection

CACHE_PROBE_SECONDS = 60  # the probe's key outlives a slow round trip, not much more


class CheckFailed(Exception):
    """A dependency answered, but not as it must. ``reason`` is a fixed phrase that the
    readiness answer shows to anyone: never put data from the dependency in it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def database() -> None:
    """The default database answers a query."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


# Once this process has seen every migration applied it stops asking: while it lives,
# migrations are only ever applied (``migrate`` before or during a deploy), never unapplied;
# rolling one back means deploying older code, which restarts the process. The plan reads
# every migration file and the whole django_migrations table, which a probe every few seconds
# need not repeat.
_all_migrations_applied = False


def migrations() -> None:
    """Every migration this code knows of is applied to the default database."""
    global _all_migrations_applied
    if _all_migrations_applied:
        return
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CheckFailed("unapplied migrations")
    _all_migrations_applied = True


def cache() -> None:
    """The default cache stores and returns a value (rate limits, lockouts, one-time codes
    and revocation announcements live there). A per-process cache passes trivially."""
    store = caches[DEFAULT_CACHE_ALIAS]
    key, value = f"health:{secrets.token_hex(16)}", secrets.token_hex(8)
    store.set(key, value, CACHE_PROBE_SECONDS)
    try:
        if store.get(key) != value:
            raise CheckFailed("value not read back")
    finally:
        store.delete(key)


def broker() -> None:
    """Celery's broker accepts a connection, when tasks go through one (not run in-process,
    not the in-memory transport)."""
    url = settings.CELERY_BROKER_URL
    if settings.CELERY_TASK_ALWAYS_EAGER or not url or url.startswith("memory://"):
        return
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    options = {
        **getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
    }
    with Connection(url, connect_timeout=timeout, transport_options=options) as connection:
        # One attempt: kombu's default retries (seconds apart) would outlast the probe.
        connection.ensure_connection(max_retries=0)
