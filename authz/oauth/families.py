"""Refresh-token families: when each began, and their clean-up once their lifetime is over.

A family is one grant (a sign-in) and its refresh tokens, rotated on every use; its id is
the grant's id and every token's ``token_family``. The client's absolute refresh-token
lifetime counts from the family's start, stored on ``GrantFamily`` because the clean-up
deletes rotated-out tokens (django-oauth-toolkit keeps them 30 days after rotation, for
reuse detection), and with them any trace of an older start.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model

from accounts.models import User
from authz.models import GrantFamily
from clients.models import Client

RefreshToken = get_refresh_token_model()


def grant_family_begin(*, grant_id: Any, client: Client, user: User) -> None:
    """Record that the grant's first refresh token is being issued now (once per grant)."""
    # One statement: the grant id is new unless a concurrent request of the same grant won.
    GrantFamily.objects.bulk_create(
        [GrantFamily(grant_id=grant_id, client=client, user=user, started_at=timezone.now())],
        ignore_conflicts=True,
    )


def grant_family_started(token_family: Any) -> datetime | None:
    """When the family began: its stored start.

    A family begun before starts were stored (and missed by the migration that backfilled
    them) falls back to its oldest surviving token, as before. That fallback can never
    count from a later token of a family whose lifetime is over: the clean-up deletes such
    a family's tokens together with its start.
    """
    if token_family is None:
        return None
    started = GrantFamily.objects.filter(grant_id=token_family).values_list("started_at", flat=True).first()
    if started is not None:
        return started
    oldest = RefreshToken.objects.filter(token_family=token_family).aggregate(first=Min("created"))
    return oldest["first"]


@transaction.atomic
def grant_families_purge() -> int:
    """Delete the families whose client's absolute lifetime has passed, and their refresh
    tokens (dead anyway); returns how many families ended."""
    now = timezone.now()
    ended = Q(pk__in=[])
    # One condition per distinct lifetime among the clients that have families: a handful.
    lifetimes = GrantFamily.objects.order_by().values_list(
        "client__refresh_token_absolute_lifetime", flat=True
    )
    for seconds in lifetimes.distinct():
        ended |= Q(
            client__refresh_token_absolute_lifetime=seconds, started_at__lt=now - timedelta(seconds=seconds)
        )
    families = GrantFamily.objects.filter(ended)
    RefreshToken.objects.filter(token_family__in=families.values("grant_id")).delete()
    count, _ = families.delete()
    return count
