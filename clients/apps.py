"""The clients app: OAuth applications (DOT's swapped application model) and their grants."""

from __future__ import annotations

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Applications"

    def ready(self) -> None:
        from accounts.versions import CONFIGURATION, changes_with

        from .models import Client, ClientGrant

        # A rotated secret, a removed grant or a deleted client reaches every process at once.
        changes_with(CONFIGURATION, Client, ClientGrant)
