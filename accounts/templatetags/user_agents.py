"""``{{ value|browser_label }}``: a User-Agent header as a person recognises it."""

from __future__ import annotations

from django import template

from accounts.self_service import browser_label as _browser_label

register = template.Library()


@register.filter
def browser_label(user_agent: str | None) -> str:
    """``Chrome on Windows`` (the account page's own wording); the raw header belongs in a
    ``title`` beside it, for whoever needs the version."""
    return _browser_label(user_agent or "")
