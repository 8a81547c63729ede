"""The apis app: registers its OpenAPI security scheme with drf-spectacular at start-up, and
announces every change to the API registry and the keys to the processes that copy them."""

from __future__ import annotations

from django.apps import AppConfig


class ApisConfig(AppConfig):
    name = "apis"
    verbose_name = "APIs and signing keys"

    def ready(self) -> None:
        from accounts.versions import CONFIGURATION, changes_with

        from . import schema  # noqa: F401 - registers the OpenAPI security scheme
        from .models import Api, Scope, SigningKey

        changes_with(CONFIGURATION, Api, Scope, SigningKey)
