"""The dashboard's navigation. Sections light up as their apps register their URLs."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

DASHBOARD_SECTIONS = [
    ("Overview", "accounts:dashboard"),
    ("APIs", "apis:list"),
    ("Applications", "clients:list"),
    ("Users", "accounts:user_list"),
    ("Roles", "roles:list"),
    ("Groups", "groups:list"),
    ("Rules", "rules:list"),
    ("Token preview", "preview:index"),
    ("Import / Export", "transfer:index"),
    ("Lockouts", "accounts:lockouts"),
    ("Audit log", "audit:list"),
]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def dashboard_nav(request: HttpRequest) -> dict[str, list[dict[str, object]]]:
    if not request.path.startswith("/dashboard/"):
        return {}
    items: list[dict[str, object]] = []
    for label, name in DASHBOARD_SECTIONS:
        url = _url(name)
        active = url is not None and (
            request.path == url if name == "accounts:dashboard" else request.path.startswith(url)
        )
        items.append({"label": label, "url": url, "active": active})
    return {"dashboard_nav": items}
