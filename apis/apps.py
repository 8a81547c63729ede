"""The apis app: registers its OpenAPI security scheme with drf-spectacular at start-up,
announces every change to the API registry and the keys to the processes that copy them, and
makes the first signing key when the database is migrated."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _first_signing_key(**kwargs: Any) -> None:
    """A migrated database holds a current RS256 key, so that a fresh deployment is ready
    (``/health/ready`` wants one; probes never make keys) before its first token."""
    from .keys import RS256, signing_key_current

    signing_key_current(RS256)


class ApisConfig(AppConfig):
    name = "apis"
    verbose_name = "APIs and signing keys"

    def ready(self) -> None:
        from accounts.versions import CONFIGURATION, changes_with

        from . import schema  # noqa: F401 - registers the OpenAPI security scheme
        from .models import Api, Scope, SigningKey

        changes_with(CONFIGURATION, Api, Scope, SigningKey)
        post_migrate.connect(_first_signing_key, sender=self)
