"""The revocation list: how a revoked grant, person, client or API reaches self-contained JWTs.

An access token is verified without asking the authorization server, so a revocation must
be somewhere every API process looks on every request. The database holds it (``Revocation``
rows, kept until the longest token they can affect has expired): a restart, a cache flush
or any amount of unrelated traffic cannot bring a revoked token back.

Each process keeps the answers it read for a short while, tagged with the shared cache's
*revocation version*. Every revocation writes its row and then, once committed, a new
version, so with a shared cache (Redis) the next request in any process reads the new
version, misses its old answers and asks the database: no delay. Without a shared cache the
version is per process, and another process's answers live at most
``REVOCATION_CACHE_SECONDS`` (1 s): that is the delay between processes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import metrics
from accounts.caching import TtlCache
from accounts.versions import SharedVersion

from .models import MAX_TOKEN_LIFETIME, Revocation

# Changes with every revocation, once committed (accounts.versions).
REVOCATION = SharedVersion("revocation")
# A fact outlives every token it may concern: the longest lifetime plus verifiers' leeway.
KEEP_SECONDS = MAX_TOKEN_LIFETIME + 60
Kind = Revocation.Kind
Fact = tuple[str, str]  # (kind, subject)

# What this process last read for a fact: its not_before, or None when there is none.
_answers: TtlCache[tuple[str, str, str], float | None] = TtlCache(
    "revocation answers", ttl=None, max_entries=50_000
)


def pair(subject: str, audience: str) -> str:
    return f"{subject} {audience}"


# --- Writing --------------------------------------------------------------------------------


def revoke(facts: Iterable[Fact], *, not_before: float | None = None) -> None:
    """Refuse the tokens these facts name, issued until now (``not_before``), from now on.

    Durable once the surrounding transaction commits; the new version is published then.
    """
    now = time.time()
    cutoff = now if not_before is None else not_before
    expires = timezone.now() + timedelta(seconds=KEEP_SECONDS)
    rows = [
        Revocation(kind=kind, subject=subject, not_before=cutoff, expires_at=expires)
        for kind, subject in facts
    ]
    if not rows:
        return
    Revocation.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["kind", "subject"],
        update_fields=["not_before", "expires_at"],
    )
    # This process forgets at once (it may answer its next request before the commit
    # callbacks run, or never see them inside a test's transaction); every process, once
    # the row is committed and can be read.
    _answers.clear()
    transaction.on_commit(_publish)
    transaction.on_commit(partial(metrics.revoked, [str(row.kind) for row in rows]))


def revoke_grant(grant_id: Any) -> None:
    """Refuse every access token of this grant from now on."""
    if grant_id:
        revoke([(Kind.GRANT, str(grant_id))])


def revoke_user_tokens(sub: Any) -> None:
    """Refuse every access token of this person issued until now."""
    revoke([(Kind.USER, str(sub))])


def revoke_client_tokens(client_id: str) -> None:
    """Refuse every access token of this client issued until now."""
    revoke([(Kind.CLIENT, client_id)])


def revoke_audience_tokens(identifier: str) -> None:
    """Refuse every access token for this API identifier issued until now (an API deleted,
    or registered again under an identifier that was used before)."""
    revoke([(Kind.AUDIENCE, identifier)])


def revocations_purge() -> int:
    """Delete the facts that no unexpired token can be concerned by any more; how many."""
    deleted, _ = Revocation.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


def _publish() -> None:
    REVOCATION.publish()
    _answers.clear()


# --- Reading --------------------------------------------------------------------------------


def _version() -> str:
    return str(REVOCATION.current())


def _facts_of(claims: dict[str, Any]) -> list[Fact]:
    sub, client_id = str(claims["sub"]), str(claims["client_id"])
    audiences = claims.get("aud", [])
    audiences = [audiences] if isinstance(audiences, str) else list(audiences)
    facts: list[Fact] = [(Kind.USER, sub), (Kind.CLIENT, client_id)]
    for audience in audiences:
        facts += [
            (Kind.AUDIENCE, audience),
            (Kind.USER_AUDIENCE, pair(sub, audience)),
            (Kind.CLIENT_AUDIENCE, pair(client_id, audience)),
        ]
    if claims.get("gid"):
        facts.append((Kind.GRANT, str(claims["gid"])))
    return facts


def _not_befores(facts: list[Fact]) -> dict[Fact, float | None]:
    """Each fact's not_before, from this process's answers or else the database."""
    version = _version()
    known: dict[Fact, float | None] = {}
    missing: list[Fact] = []
    for fact in facts:
        found, value = _answers.lookup((version, *fact))
        if found:
            known[fact] = value
        else:
            missing.append(fact)
    if missing:
        wanted = Q()
        for kind, subject in missing:
            wanted |= Q(kind=kind, subject=subject)
        stored = dict.fromkeys(missing, None) | {
            (kind, subject): not_before
            for kind, subject, not_before in Revocation.objects.filter(
                wanted, expires_at__gt=timezone.now()
            ).values_list("kind", "subject", "not_before")
        }
        ttl = settings.REVOCATION_CACHE_SECONDS
        for fact, value in stored.items():
            _answers.put((version, *fact), value, ttl=ttl)
        known |= stored
    return known


def is_revoked(claims: dict[str, Any]) -> bool:
    """Whether verified ``claims`` belong to a revoked grant, or to a person, client or API
    whose tokens issued until a moment were revoked."""
    issued = float(claims["iat"])
    for (kind, _subject), not_before in _not_befores(_facts_of(claims)).items():
        if not_before is None:
            continue
        # A token minted in the same second as the revocation is refused too (iat has no
        # fractions): a fresh sign-in a second later works again.
        if kind == Kind.GRANT or issued <= not_before:
            return True
    return False
