"""URLs of accounts.mfa (see accounts/mfa/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
