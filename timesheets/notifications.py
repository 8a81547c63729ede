"""Emails to people about their time: today, the notice that an approver rejected an entry."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from .models import Entry


def rejection_email_send(*, entry: Entry) -> None:
    """Tell the worker which entry was rejected, by whom and why, so they can correct it."""
    approver = entry.decided_by.get_full_name() if entry.decided_by else "An approver"
    send_mail(
        subject=f"Timesheet entry rejected: {entry.project} on {entry.date:%d %b %Y}",
        message=(
            f"Hello {entry.worker.get_short_name()},\n\n"
            f"{approver} rejected {entry.hours:g} h on {entry.project} ({entry.date:%A %d %B %Y}).\n\n"
            f"Reason: {entry.rejection_reason}\n\nYou can correct it and submit it again."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[entry.worker.email],
    )
