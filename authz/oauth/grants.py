"""Ending a grant everywhere: refresh tokens in the database, access tokens at the APIs.

A grant is one sign-in (or one client-credentials token) and everything minted from it:
its id is the ``gid`` claim of its access tokens and the ``token_family`` of its refresh
tokens. Ending it writes the revocation list first (the APIs' view), then the database.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache
from django.db import transaction
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts.audit import audit_record
from apis.revocation import revoke_grant
from authz.models import AccessTokenRecord

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
REDEEMED_CODE_SECONDS = 3600


def grant_end(*, grant_id: Any, action: str, client=None, details: dict[str, Any] | None = None) -> None:
    """Revoke the grant's access tokens (revocation list) and refresh tokens, and audit it."""
    revoke_grant(grant_id)
    with transaction.atomic():
        RefreshToken.revoke_family(grant_id)
        token_ids = AccessTokenRecord.objects.filter(grant_id=grant_id).values("access_token_id")
        AccessToken.objects.filter(pk__in=token_ids).delete()
        audit_record(
            actor=None, action=action, target=client, after={"grant": str(grant_id), **(details or {})}
        )


def _code_key(code: str) -> str:
    return "redeemed-code:" + hashlib.sha256(code.encode()).hexdigest()


def code_redeemed(code: str, grant_id: Any) -> None:
    """Remember which grant a code started, to recognise a replay of it."""
    cache.set(_code_key(code), str(grant_id), REDEEMED_CODE_SECONDS)


def code_redeemed_grant(code: str) -> str | None:
    return cache.get(_code_key(code))
