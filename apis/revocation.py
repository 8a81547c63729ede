"""The revocation list: how a revoked grant, user or client reaches self-contained JWTs.

An access token is verified without the database, so revoking one must be visible
somewhere the resource server looks on every request: the cache (Redis in production,
shared by every process; local memory otherwise). Three kinds of entries:

- a revoked **grant** (the ``gid`` claim: one sign-in and its refresh-token family, or one
  client-credentials token), kept until every token of that grant has expired;
- a **user** not-before time: tokens of that subject issued earlier are refused (set when a
  user is deactivated);
- a **client** not-before time: the same for a client (set when it is deleted).

One cache round trip (``get_many``) per verified token. Entries live as long as the
longest token could, so an expired entry can only concern expired tokens.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache

from .models import MAX_TOKEN_LIFETIME

PREFIX = "revoked"
TTL_SECONDS = MAX_TOKEN_LIFETIME + 60


def _grant_key(grant_id: str) -> str:
    return f"{PREFIX}:grant:{grant_id}"


def _user_key(sub: str) -> str:
    return f"{PREFIX}:user:{sub}"


def _client_key(client_id: str) -> str:
    return f"{PREFIX}:client:{client_id}"


def revoke_grant(grant_id: Any) -> None:
    """Refuse every access token of this grant from now on."""
    if grant_id:
        cache.set(_grant_key(str(grant_id)), 1, TTL_SECONDS)


def revoke_user_tokens(sub: Any) -> None:
    """Refuse every access token of this subject issued until now."""
    cache.set(_user_key(str(sub)), time.time(), TTL_SECONDS)


def revoke_client_tokens(client_id: str) -> None:
    """Refuse every access token of this client issued until now."""
    cache.set(_client_key(client_id), time.time(), TTL_SECONDS)


def is_revoked(claims: dict[str, Any]) -> bool:
    """Whether verified ``claims`` belong to a revoked grant, user or client."""
    keys = [_user_key(str(claims["sub"])), _client_key(str(claims["client_id"]))]
    if claims.get("gid"):
        keys.append(_grant_key(str(claims["gid"])))
    found = cache.get_many(keys)
    if not found:
        return False
    if found.get(keys[-1]) and claims.get("gid"):
        return True
    issued = float(claims["iat"])
    # A token minted in the same second as the revocation is refused too (iat has no
    # fractions): a fresh sign-in a second later works again.
    return any(issued <= float(found[key]) for key in keys[:2] if key in found)
