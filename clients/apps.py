"""The clients app: OAuth applications (DOT's swapped application model) and their grants."""

from __future__ import annotations

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Applications"
