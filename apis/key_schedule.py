"""The signing keys' schedule: every SIGNING_KEY_ROTATION_DAYS the current keys retire and
the next ones sign, each next key published SIGNING_KEY_PUBLISH_LEAD_DAYS ahead.

The Celery beat task ``apis.tasks.signing_keys_rotate_due_task`` asks
``signing_keys_rotate_due`` every SIGNING_KEY_ROTATION_CHECK_SECONDS; the dashboard shows
``signing_key_schedule``. The RSA key's age decides for every algorithm: the keys rotate
together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import audit_record

from .keys import (
    RS256,
    current_keys,
    lock_unretired_keys,
    next_keys,
    signing_key_rotate,
    signing_keys_publish_next,
)
from .models import SigningKey

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    OFF = "off"  # SIGNING_KEY_ROTATION_DAYS is 0: by hand only
    NO_KEY = "no key"  # nothing signed yet; the first use makes a key
    NOT_DUE = "not due"
    PUBLISHED = "published"  # next keys made and published; they sign after the lead time
    WAITING = "waiting"  # due, but a next key has not been published for the lead time yet
    ROTATED = "rotated"
    RACED = "raced"  # another worker made the same change first; this one changed nothing


def rotation_period() -> timedelta | None:
    """How long a key signs before the schedule replaces it; None: only by hand."""
    days = settings.SIGNING_KEY_ROTATION_DAYS
    return timedelta(days=days) if days > 0 else None


def publish_lead() -> timedelta:
    """How long a next key is published before it signs."""
    return timedelta(days=max(settings.SIGNING_KEY_PUBLISH_LEAD_DAYS, 0))


@dataclass(frozen=True)
class KeySchedule:
    """Where the keys stand, RSA first; the RSA keys' times rule, and they are estimates,
    to the beat task's next check."""

    rotation: timedelta | None
    lead: timedelta
    current: list[SigningKey]
    upcoming: list[SigningKey]
    publish_at: datetime | None  # when the next keys are published (or were, with ``upcoming``)
    rotate_at: datetime | None  # about when the next keys start to sign

    @property
    def rotation_days(self) -> float:
        return self.rotation / timedelta(days=1) if self.rotation is not None else 0

    @property
    def lead_days(self) -> float:
        return self.lead / timedelta(days=1)


def _rsa_first(key: SigningKey) -> tuple[bool, str]:
    return key.algorithm != RS256, key.algorithm


def signing_key_schedule(*, now: datetime | None = None) -> KeySchedule:
    """The keys' schedule as of ``now``."""
    now = now or timezone.now()
    rotation, lead = rotation_period(), publish_lead()
    current = sorted(current_keys(), key=_rsa_first)
    upcoming = sorted(next_keys(), key=_rsa_first)
    rsa = next((key for key in current if key.algorithm == RS256), None)
    rsa_next = next((key for key in upcoming if key.algorithm == RS256), None)
    publish_at = rsa_next.created_at if rsa_next is not None else None
    rotate_at = None
    if rotation is not None and rsa is not None and rsa.activated_at is not None:
        due = rsa.activated_at + rotation
        if publish_at is None:  # a key due to be published already is, at the next check
            publish_at = max(due - lead, now)
        rotate_at = max(due, publish_at + lead)
    return KeySchedule(rotation, lead, current, upcoming, publish_at, rotate_at)


def signing_keys_rotate_due(*, now: datetime | None = None) -> Outcome:
    """Do what the schedule asks as of ``now`` (the beat task's job); what it did.

    Once the current RSA key has signed for the rotation period less the lead time, a next
    key is published for every algorithm in use. Once it has signed for the whole period,
    the current keys retire and the next ones sign, but only when each next key has been in
    the JWKS for the lead time: a key must not sign before relying parties could have
    fetched it, so that one caching the JWKS already holds the key when the first token
    signed with it arrives (the lead must exceed the JWKS ``max-age``,
    OIDC_JWKS_MAX_AGE_SECONDS, and any longer refresh interval of a relying party).

    When the period is over and no next key is published (rotation just enabled, the beat
    was down, the lead lengthened), the keys are published now and the current ones keep
    signing for the lead time: a late rotation is safe, an early switch is not. A lead time
    of 0 is the operator's choice to switch at once, as the manual rotation does: relying
    parties then depend on refetching the JWKS when they meet an unknown ``kid``.

    Two beat ticks or workers at once: the unretired keys are locked for the decision, and
    the database allows one current and one next key per algorithm, so the second finds the
    work done (or fails its write and changes nothing).
    """
    rotation, lead = rotation_period(), publish_lead()
    if rotation is None:
        return Outcome.OFF
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return _rotate_due(now, rotation, lead)
    except IntegrityError:  # another worker wrote the same keys first
        logger.info("signing key schedule: another worker acted first")
        return Outcome.RACED


def _rotate_due(now: datetime, rotation: timedelta, lead: timedelta) -> Outcome:
    unretired = lock_unretired_keys()
    current = next((key for key in unretired if key.activated_at and key.algorithm == RS256), None)
    if current is None or current.activated_at is None:
        return Outcome.NO_KEY
    age = now - current.activated_at
    if age < rotation - lead:
        return Outcome.NOT_DUE
    if age >= rotation and not lead:
        return _rotate(current)
    published = signing_keys_publish_next()
    if published:
        audit_record(
            actor=None,
            action="signing_key.publish",
            target=published[0],
            after={"kids": [key.kid for key in published], "scheduled": True},
        )
        logger.info("next signing keys published: kids=%s", ",".join(key.kid for key in published))
    if age < rotation:
        return Outcome.PUBLISHED if published else Outcome.NOT_DUE
    if published or any(now - key.created_at < lead for key in next_keys()):
        return Outcome.PUBLISHED if published else Outcome.WAITING
    return _rotate(current)


def _rotate(previous: SigningKey) -> Outcome:
    key = signing_key_rotate()
    audit_record(
        actor=None,
        action="signing_key.rotate",
        target=key,
        after={"kid": key.kid, "previous": previous.kid, "scheduled": True},
    )
    logger.info("signing keys rotated on schedule: kid=%s previous=%s", key.kid, previous.kid)
    return Outcome.ROTATED
