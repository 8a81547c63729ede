"""gunicorn's settings for production: ``gunicorn -c config/gunicorn.py config.wsgi``.

Sync workers, one more than the machine has cores (``WEB_CONCURRENCY`` to choose): measured
with ``make bench`` on 2 cores, three workers served 10-30 % more short requests (tokens,
API reads) than five, which only added context switches; gthread workers gave nothing.

Metrics across the workers (``accounts.metrics``): prometheus_client's multiprocess mode,
in which every worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` and
``/metrics`` adds them up. The variable must be set before a worker imports
prometheus_client; ``on_starting`` runs in the master before any worker is forked (the
application is not preloaded), so a directory made there reaches every worker.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from typing import Any

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or (os.cpu_count() or 1) + 1)
worker_class = "sync"
# A worker that has not answered for this long is restarted; a request is never that slow.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Workers are not recycled by default: a restart costs a worker about a second of CPU and
# shows as a one-second p99 (measured). GUNICORN_MAX_REQUESTS bounds a leak if one appears.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
# The TLS proxy in front says which requests were https (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # requests are logged by the proxy

# Set in on_starting when PROMETHEUS_MULTIPROC_DIR was not: removed again at exit.
_made_metrics_dir: list[str] = []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def on_starting(server: Any) -> None:
    """Give the workers a metrics directory: ``PROMETHEUS_MULTIPROC_DIR``, emptied of what
    an earlier run left (values of processes that are gone), or a new temporary one."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        directory = tempfile.mkdtemp(prefix="abc-identity-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        _made_metrics_dir.append(directory)
        return
    os.makedirs(directory, exist_ok=True)
    # Files are named <kind>_<pid>.db (gauges: <kind>_<mode>_<pid>.db). Those of a process
    # still running (a Celery worker given the same directory) are kept: it writes on.
    for path in glob.glob(os.path.join(directory, "*.db")):
        pid = os.path.basename(path)[: -len(".db")].rpartition("_")[2]
        if not (pid.isdigit() and _alive(int(pid))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended: its live gauges stop counting (its counters and histograms stay in
    the sums, as Prometheus expects of a counter)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    for directory in _made_metrics_dir:
        shutil.rmtree(directory, ignore_errors=True)
