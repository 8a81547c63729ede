"""The apis app: registers its OpenAPI security scheme with drf-spectacular at start-up."""

from __future__ import annotations

from django.apps import AppConfig


class ApisConfig(AppConfig):
    name = "apis"
    verbose_name = "APIs and signing keys"

    def ready(self) -> None:
        from . import schema  # noqa: F401 - registers the OpenAPI security scheme
