"""``EMAIL_URL`` (smtp://user:password@host:587?tls=1, smtps://host) as Django's EMAIL_* settings."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


def email_url_settings(url: str) -> dict[str, Any]:
    """Django's EMAIL_* settings from an EMAIL_URL: ``smtp://`` with ``?tls=1`` for STARTTLS,
    ``smtps://`` (or ``?ssl=1``) for implicit TLS; user and password percent-encoded."""
    parsed = urlsplit(url)
    if parsed.scheme not in {"smtp", "smtps"} or not parsed.hostname:
        raise ImproperlyConfigured(
            "EMAIL_URL must be smtp://[user:password@]host[:port][?tls=1] or smtps://..."
        )
    query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    flags = {key: query.get(key, "").lower() in {"1", "true", "yes", "on"} for key in ("tls", "ssl")}
    use_ssl = parsed.scheme == "smtps" or flags["ssl"]
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname,
        "EMAIL_PORT": parsed.port or (465 if use_ssl else 587 if flags["tls"] else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_TLS": flags["tls"] and not use_ssl,
        "EMAIL_USE_SSL": use_ssl,
    }
