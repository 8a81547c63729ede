"""Readiness checks of the apis app (settings.HEALTH_CHECKS; see accounts.health)."""

from __future__ import annotations

from accounts.health import CheckFailed

from .models import CURRENT_KEY, SigningKey


def signing_key() -> None:
    """A current RS256 key exists: every ID token needs one. A next key, published ahead of
    its turn (apis.key_schedule), signs nothing and does not count.

    Only reads: a probe never makes a key (the first token or JWKS request does, through
    apis.keys), or probes from several instances of a fresh deployment would race to.
    """
    if not SigningKey.objects.filter(CURRENT_KEY, algorithm=SigningKey.Algorithm.RS256).exists():
        raise CheckFailed("no current RS256 key")
