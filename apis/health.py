"""Readiness checks of the apis app (settings.HEALTH_CHECKS; see accounts.health)."""

from __future__ import annotations

from accounts.health import CheckFailed

from .models import SigningKey


def signing_key() -> None:
    """An RS256 key that has not retired exists: every ID token needs one.

    Only reads: a probe never makes a key (the first token or JWKS request does, through
    apis.keys), or probes from several instances of a fresh deployment would race to.
    """
    if not SigningKey.objects.filter(algorithm=SigningKey.Algorithm.RS256, retired_at__isnull=True).exists():
        raise CheckFailed("no current RS256 key")
