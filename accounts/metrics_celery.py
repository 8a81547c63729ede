"""Celery as ``/metrics`` shows it: the queue's length and the tasks that failed, read from
Redis when Prometheus scrapes.

Both live in the broker's Redis, shared by every host, because a Celery worker serves no
HTTP of its own and may run on another machine than the web servers: any web process
answers for the whole deployment (scraping several, take ``max``, not ``sum``). The worker
counts a failure in a Redis hash (Celery's ``task_failure``: a task that raised, after its
last retry); the scrape reads that hash and the queue's lists in one round trip, with short
timeouts, and leaves both metrics out when Redis does not answer in time.

Without a Redis broker (``memory://``) tasks run inside the request that sends them and
their errors are that request's: there is no queue and no failure to count.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .metrics import PREFIX

logger = logging.getLogger(__name__)

QUEUE_LENGTH = f"{PREFIX}celery_queue_length"
TASK_FAILURES = f"{PREFIX}celery_task_failures"
_QUEUE_HELP = "Tasks waiting in the Celery queue (not yet taken by a worker)."
_FAILURES_HELP = "Celery tasks that failed (raised after their last retry), by task name."
# A scrape waits this long at most for Redis (connecting, then answering).
TIMEOUT_SECONDS = 0.5
# kombu's Redis transport keeps messages sent with a priority in lists of their own, named
# after the queue, a separator and the priority step (kombu.transport.redis._q_for_pri).
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)


def broker_redis_url() -> str | None:
    url = str(settings.CELERY_BROKER_URL)
    return url if url.startswith(("redis://", "rediss://", "unix://")) else None


@lru_cache(maxsize=4)
def broker_redis(url: str) -> redis.Redis:
    """This process's client of the broker's Redis, with timeouts short enough for a scrape."""
    return redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)


def failures_key() -> str:
    """The hash of failures per task name: under the cache's prefix, so that deployments
    (and test runs) sharing one Redis keep their own counts."""
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:metrics:celery-task-failures"


def queue_keys(queue: str) -> list[str]:
    return [queue if step == 0 else f"{queue}{_PRIORITY_SEPARATOR}{step}" for step in _PRIORITY_STEPS]


def on_task_failure(sender: Any = None, **_signal: Any) -> None:
    """Celery's ``task_failure`` receiver, in the worker: one more failure of this task.

    A failure to count is logged, never raised: the task has failed already."""
    url, name = broker_redis_url(), getattr(sender, "name", None)
    if url is None or not name:
        return
    try:
        broker_redis(url).hincrby(failures_key(), name, 1)
    except redis.RedisError:
        logger.warning("Could not count the failure of task %s in Redis.", name, exc_info=True)


class CeleryCollector(Collector):
    """The queue's length and the failures per task, read from the broker's Redis."""

    def describe(self) -> Iterable[Metric]:
        # Registering asks for the names: given here, registering never calls Redis.
        return [
            GaugeMetricFamily(QUEUE_LENGTH, _QUEUE_HELP, labels=["queue"]),
            CounterMetricFamily(TASK_FAILURES, _FAILURES_HELP, labels=["task"]),
        ]

    def collect(self) -> Iterable[Metric]:
        url = broker_redis_url()
        if url is None:
            return []
        queue = str(settings.CELERY_TASK_DEFAULT_QUEUE)
        try:
            with broker_redis(url).pipeline(transaction=False) as pipeline:
                for key in queue_keys(queue):
                    pipeline.llen(key)
                pipeline.hgetall(failures_key())
                *lengths, failures = pipeline.execute()
        except redis.RedisError:
            logger.warning("Redis did not answer the metrics scrape: Celery metrics left out.", exc_info=True)
            return []
        length = GaugeMetricFamily(QUEUE_LENGTH, _QUEUE_HELP, labels=["queue"])
        length.add_metric([queue], sum(int(value) for value in lengths))
        failed = CounterMetricFamily(TASK_FAILURES, _FAILURES_HELP, labels=["task"])
        for name, count in sorted(failures.items()):
            failed.add_metric([name.decode()], int(count))
        return [length, failed]
