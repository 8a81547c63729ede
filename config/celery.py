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
# Our apps' tasks.py modules, and the protocol's, which lives in a sub-package of authz.
app.autodiscover_tasks()
app.autodiscover_tasks(["authz.oauth"])
