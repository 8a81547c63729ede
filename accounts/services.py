"""Writes for users and their sessions. Each one is audited with its actor."""

from __future__ import annotations

from typing import Protocol

from axes.models import AccessAttempt
from axes.utils import reset
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from .audit import audit_record, snapshot
from .models import User, UserSession
from .sessions import session_store, sessions_delete
from .throttle import login_attempts_per_account

PROFILE_FIELDS = ("name", "nickname", "picture", "worker_type", "manager")


class AccessRevoker(Protocol):
    """Revokes what ``user`` was granted outside this app (their OAuth tokens); how many.

    Passed in by the caller, because that data belongs to apps that stand on this one.
    """

    def __call__(self, *, user: User) -> int: ...


@transaction.atomic
def user_update_profile(
    *,
    actor: User | None,
    user: User,
    name: str,
    nickname: str,
    picture: str,
    worker_type: str,
    manager: User | None,
) -> User:
    """Change the profile claims and the reporting line; refuses a manager cycle."""
    before = snapshot(user, PROFILE_FIELDS)
    if manager is not None:
        _check_reporting_line(user, manager)
    user.name, user.nickname, user.picture = name.strip(), nickname.strip(), picture.strip()
    user.worker_type, user.manager = worker_type, manager
    user.full_clean(exclude=["password"])
    user.save()
    after = snapshot(user, PROFILE_FIELDS)
    if after != before:
        audit_record(actor=actor, action="user.update", target=user, before=before, after=after)
    return user


def _check_reporting_line(user: User, manager: User) -> None:
    seen: set[int] = set()
    current: User | None = manager
    while current is not None and current.pk not in seen:
        if current.pk == user.pk:
            message = (
                f"{user} cannot manage themselves."
                if manager.pk == user.pk
                else f"{manager} already reports to {user}: that would make a loop."
            )
            raise ValidationError({"manager": message})
        seen.add(current.pk)
        current = current.manager


@transaction.atomic
def user_deactivate(*, actor: User | None, user: User, revoke_access: AccessRevoker | None = None) -> User:
    """Stop ``user`` signing in: end their sessions and revoke what their applications hold.

    ``revoke_access`` is called with the user inside this transaction; the audit entry
    records how many sessions ended and how many grants it revoked.
    """
    if actor is not None and actor.pk == user.pk:
        raise ValidationError("You cannot deactivate yourself: ask another administrator.")
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
    sessions = sessions_delete(user=user)
    revoked = revoke_access(user=user) if revoke_access is not None else 0
    audit_record(
        actor=actor,
        action="user.deactivate",
        target=user,
        before={"is_active": True},
        after={"is_active": False, "sessions_ended": sessions, "grants_revoked": revoked},
    )
    return user


@transaction.atomic
def user_reactivate(*, actor: User | None, user: User) -> User:
    """Let ``user`` sign in again. Their old sessions and tokens stay ended."""
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        action="user.reactivate",
        target=user,
        before={"is_active": False},
        after={"is_active": True},
    )
    return user


@transaction.atomic
def session_end(*, actor: User | None, session: UserSession) -> None:
    """Sign the session's browser out: its next request is anonymous."""
    session_store().delete(session.session_key)
    audit_record(
        actor=actor,
        action="session.end",
        target=session.user,
        before={
            "ip": session.ip,
            "user_agent": session.user_agent,
            "created_at": session.created_at.isoformat(),
        },
    )
    session.delete()


@transaction.atomic
def user_set_staff_role(*, actor: User, user: User, role: str | None) -> User:
    """Make ``user`` an administrator, an auditor, or not staff (``role`` None).

    Only an administrator may, and never for themselves: nobody raises (or drops into an
    inconsistent state) their own privileges.
    """
    if not actor.is_dashboard_admin:
        raise PermissionDenied("Only administrators change who is staff.")
    if actor.pk == user.pk:
        raise PermissionDenied("You cannot change your own staff role.")
    if role is not None and role not in User.StaffRole.values:
        raise ValidationError({"role": "Choose administrator, auditor or no staff access."})
    before = {"is_staff": user.is_staff, "staff_role": user.staff_role}
    user.is_staff = role is not None
    user.staff_role = role or ""  # no role without staff access (a database constraint)
    user.save(update_fields=["is_staff", "staff_role", "updated_at"])
    audit_record(
        actor=actor,
        action="user.staff_role",
        target=user,
        before=before,
        after={"is_staff": user.is_staff, "staff_role": user.staff_role},
    )
    return user


@transaction.atomic
def lockout_reset(*, actor: User, attempt: AccessAttempt) -> None:
    """Forget the failures of the attempt's account from every address, lifting its lockout
    (an account is locked on its total); a row without an account clears its address."""
    audit_record(
        actor=actor,
        action="security.lockout_cleared",
        target_label=attempt.username or attempt.ip_address or "",
        before={
            "username": attempt.username,
            "ip_address": attempt.ip_address,
            "failures": attempt.failures_since_start,
        },
    )
    if attempt.username:
        reset(username=attempt.username)
        login_attempts_per_account().forget(attempt.username)
    else:
        reset(ip=attempt.ip_address)
