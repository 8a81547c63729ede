"""Credentials that may be redeemed once: authorization codes and rotating refresh tokens.

Parallel redemptions queue on a row lock, so exactly one wins; a redeemed code is
remembered in the database (every process, any restart) with the grant it started, so that
a replay of it can end that grant (RFC 9700 §4.5.3.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone
from oauth2_provider.models import (
    AbstractGrant,
    AbstractRefreshToken,
    get_grant_model,
    get_refresh_token_model,
)

from accounts.checksums import token_checksum
from authz.models import RedeemedCode

Grant = get_grant_model()
RefreshToken = get_refresh_token_model()
REDEEMED_CODE_SECONDS = 3600


# The code row locked for this token request: oauthlib asks about the code five times
# (validation, redirect URI, scopes, nonce, resource); the locked row answers them all.
_locked_code: ContextVar[AbstractGrant | None] = ContextVar("locked_authorization_code", default=None)


@contextmanager
def authorization_code_lock(code: str) -> Iterator[None]:
    """Lock the authorization code's row (if any) until the transaction ends, and let
    ``code_grant`` answer from it in the block."""
    grant = Grant.objects.select_for_update().select_related("user").filter(code=code).first()
    token = _locked_code.set(grant)
    try:
        yield
    finally:
        _locked_code.reset(token)


def code_grant(code: str, client: Any) -> AbstractGrant | None:
    """The unredeemed authorization code ``code`` of ``client`` (of any client when None:
    before the client is authenticated): the row this request locked, or else read."""
    grant = _locked_code.get()
    if grant is None or grant.code != code:
        grant = Grant.objects.filter(code=code).select_related("user").first()
    if grant is None or (client is not None and grant.application_id != client.pk):
        return None
    return grant


def refresh_token_lock(value: str) -> AbstractRefreshToken | None:
    """Lock the refresh token ``value`` names (its newest row) until the transaction ends."""
    return (
        RefreshToken.objects.select_for_update()
        .filter(token_checksum=token_checksum(value))
        .order_by(F("revoked").desc(nulls_first=True))
        .first()
    )


def code_redeemed(code: str, grant_id: str) -> None:
    """Remember which grant a code started, to recognise a replay of it."""
    expires_at = timezone.now() + timedelta(seconds=REDEEMED_CODE_SECONDS)
    RedeemedCode.objects.bulk_create(
        [RedeemedCode(checksum=token_checksum(code), grant_id=grant_id, expires_at=expires_at)],
        update_conflicts=True,
        unique_fields=["checksum"],
        update_fields=["grant_id", "expires_at"],
    )


def code_redeemed_grant(code: str) -> str | None:
    """The grant a code started, if it was already redeemed."""
    found = (
        RedeemedCode.objects.filter(checksum=token_checksum(code), expires_at__gt=timezone.now())
        .values_list("grant_id", flat=True)
        .first()
    )
    return str(found) if found is not None else None


def redeemed_codes_purge() -> int:
    """Forget redeemed codes that could no longer be replayed successfully anyway; how many."""
    deleted, _ = RedeemedCode.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
