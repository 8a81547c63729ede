"""Reads for the accounts dashboard pages: users, and django-axes' lockout counters."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.db.models import Q, QuerySet

from .models import User


def user_list(*, search: str = "") -> QuerySet[User]:
    """Users for the dashboard, optionally narrowed by a case-insensitive search."""
    users = User.objects.select_related("manager").order_by("email")
    if search:
        users = users.filter(Q(email__icontains=search) | Q(name__icontains=search))
    return users


def lockout_attempts() -> QuerySet[AccessAttempt]:
    """django-axes' failure counters, most failures first."""
    return AccessAttempt.objects.order_by("-failures_since_start", "-attempt_time")[:200]
