"""The API registry's background work: the signing keys' schedule."""

from __future__ import annotations

from celery import shared_task

from .key_schedule import signing_keys_rotate_due


@shared_task
def signing_keys_rotate_due_task() -> str:
    """Publish the next signing keys or rotate to them when the schedule says so (beat,
    every SIGNING_KEY_ROTATION_CHECK_SECONDS); what it did."""
    return signing_keys_rotate_due().value
