"""Decisions on submitted time: an approver approves or rejects an entry, or a whole week.

This module enqueues the rejection email, so it imports ``tasks``; ``tasks`` never imports it.
"""

from __future__ import annotations

import datetime
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User

from . import tasks
from .models import Entry
from .policies import may_decide
from .selectors import week_awaiting_approval
from .services import InvalidTransition


@transaction.atomic
def entry_decide(*, entry: Entry, approver: User, approve: bool, reason: str = "") -> Entry:
    """Approve or reject a submitted entry of someone the approver may decide for."""
    entry = Entry.objects.select_for_update().select_related("worker").get(pk=entry.pk)
    if not may_decide(approver, entry.worker):
        own = entry.worker_id == approver.pk
        raise PermissionDenied(
            "You cannot approve your own time." if own else "You cannot decide on this entry."
        )
    if entry.status != Entry.Status.SUBMITTED:
        raise InvalidTransition(
            f"Only submitted entries can be approved or rejected; this one is {entry.status}."
        )
    if not approve and not reason.strip():
        raise ValidationError({"reason": "Say why the entry is rejected."})
    entry.status = Entry.Status.APPROVED if approve else Entry.Status.REJECTED
    entry.rejection_reason = "" if approve else reason.strip()
    entry.decided_by = approver
    entry.decided_at = timezone.now()
    entry.save(update_fields=["status", "rejection_reason", "decided_by", "decided_at", "updated_at"])
    if not approve:
        transaction.on_commit(partial(tasks.send_rejection_email.delay, entry.pk))
    return entry


@transaction.atomic
def week_approve(*, actor: User, worker: User, monday: datetime.date) -> list[Entry]:
    """Approve everything ``worker`` submitted for the week of ``monday`` that waits for ``actor``.

    All or nothing: if one entry changed state meanwhile, ``InvalidTransition`` undoes the
    whole week. Returns the entries approved; none when nothing waits for ``actor``.
    """
    waiting = week_awaiting_approval(approver=actor, worker_pk=worker.pk, monday=monday)
    return [entry_decide(entry=entry, approver=actor, approve=True) for entry in waiting]
