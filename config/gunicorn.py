"""gunicorn's settings for production: ``gunicorn -c config/gunicorn.py config.wsgi``.

Sync workers, one more than the machine has cores (``WEB_CONCURRENCY`` to choose): measured
with ``make bench`` on 2 cores, three workers served 10-30 % more short requests (tokens,
API reads) than five, which only added context switches; gthread workers gave nothing.
"""

from __future__ import annotations

import os

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
