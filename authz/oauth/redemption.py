"""Credentials that may be redeemed once: authorization codes and rotating refresh tokens.

Parallel redemptions queue on a row lock, so exactly one wins; a code remembers which
grant it started, so that a replay of it can end that grant (RFC 9700 §4.5.3.1).
"""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import F
from oauth2_provider.models import AbstractRefreshToken, get_grant_model, get_refresh_token_model

from accounts.checksums import token_checksum

Grant = get_grant_model()
RefreshToken = get_refresh_token_model()
REDEEMED_CODE_SECONDS = 3600


def authorization_code_lock(code: str) -> None:
    """Lock the authorization code's row (if any) until the transaction ends."""
    Grant.objects.select_for_update().filter(code=code).first()


def refresh_token_lock(value: str) -> AbstractRefreshToken | None:
    """Lock the refresh token ``value`` names (its newest row) until the transaction ends."""
    return (
        RefreshToken.objects.select_for_update()
        .filter(token_checksum=token_checksum(value))
        .order_by(F("revoked").desc(nulls_first=True))
        .first()
    )


def _code_key(code: str) -> str:
    return "redeemed-code:" + token_checksum(code)


def code_redeemed(code: str, grant_id: str) -> None:
    """Remember which grant a code started, to recognise a replay of it."""
    cache.set(_code_key(code), grant_id, REDEEMED_CODE_SECONDS)


def code_redeemed_grant(code: str) -> str | None:
    """The grant a code started, if it was already redeemed."""
    return cache.get(_code_key(code))
