"""Who must use a second factor: the question the sign-in asks, answered above us.

``accounts`` knows people, not groups or applications; the policy (never, staff, members
of chosen groups) lives in ``authz``, which names its answer in ``MFA_POLICY``: a dotted
path to ``(user) -> bool``. Per-application requirements are asked at ``/authorize``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from ..models import User


def never(user: User) -> bool:
    """The policy when none is configured: a second factor is the person's choice."""
    return False


@cache
def _policy(path: str) -> Callable[[User], bool]:
    return import_string(path)


def mfa_required(user: User) -> bool:
    """Whether ``user`` must sign in with a second factor (and enrol one first)."""
    return bool(_policy(getattr(settings, "MFA_POLICY", "accounts.mfa.policy.never"))(user))
