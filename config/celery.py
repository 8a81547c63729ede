"""The Celery application.

With ``REDIS_URL`` unset, the settings make every task run eagerly in the calling process,
so development and the test suite need no broker.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

app = Celery("abc_identity")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
