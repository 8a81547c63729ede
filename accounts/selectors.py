"""Reads for the accounts dashboard pages: users, and django-axes' lockout counters."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum

from .models import User


def user_list(*, search: str = "") -> QuerySet[User]:
    """Users for the dashboard, optionally narrowed by a case-insensitive search."""
    users = User.objects.select_related("manager").order_by("email")
    if search:
        users = users.filter(Q(email__icontains=search) | Q(name__icontains=search))
    return users


def lockout_attempts() -> QuerySet[AccessAttempt]:
    """django-axes' failure counters (one per account, address and browser), with the
    account's total from every address (``account_failures``: what locks it), most first.

    Usernames are what ``accounts.identifiers.axes_username`` stored: valid emails or a
    redacted marker, never a password typed into the email field.
    """
    account_total = (
        AccessAttempt.objects.filter(username=OuterRef("username"))
        .values("username")
        .annotate(total=Sum("failures_since_start"))
        .values("total")
    )
    return AccessAttempt.objects.annotate(account_failures=Subquery(account_total)).order_by(
        "-account_failures", "-failures_since_start", "-attempt_time"
    )[:200]
