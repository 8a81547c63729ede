"""Writes for users and their sessions. Each one is audited with its actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from .audit import audit_record, snapshot
from .identifiers import login_identifier
from .models import User, UserSession
from .self_service import password_link_send
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
    if user.deleted_at:
        raise ValidationError("A deleted person cannot be unblocked: invite them again.")
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
    if user.deleted_at:
        raise PermissionDenied("A deleted person cannot be staff.")
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


# --- A person's lifecycle: invitation, password reset, deletion -------------------------------


def _email_taken(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


@transaction.atomic
def user_invite(
    *,
    actor: User | None,
    email: str,
    name: str,
    worker_type: str,
    manager: User | None,
    setup: Callable[[User], object] | None = None,
) -> User:
    """Create a person without a password and email them an invitation to set one.

    ``setup`` is called with the new person inside this transaction (the caller's groups,
    which belong to an app standing on this one): if anything fails, nobody is created and
    no email leaves (it is sent after commit). An email already in use is refused on the
    ``email`` field; a deleted person's address is free again (their tombstone gave it up).
    """
    email = login_identifier(email)
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError({"email": error.messages}) from None
    if _email_taken(email):
        raise ValidationError({"email": "Someone with this email address already exists."})
    user = User(email=email, name=name.strip(), worker_type=worker_type, manager=manager)
    user.set_unusable_password()
    user.invited_at = timezone.now()
    user.full_clean(exclude=["password", "email"])
    try:
        with transaction.atomic():  # a concurrent invitation of the same address
            user.save()
    except IntegrityError:
        raise ValidationError({"email": "Someone with this email address already exists."}) from None
    if setup is not None:
        setup(user)
    audit_record(
        actor=actor,
        action="user.invite",
        target=user,
        after=snapshot(user, ("email", "name", "worker_type", "manager")),
    )
    _invitation_email(user, actor)
    return user


def _invitation_email(user: User, actor: User | None) -> None:
    password_link_send(
        user=user,
        purpose="invitation",
        subject=f"You are invited to {settings.PRODUCT_NAME}",
        template="invitation",
        context={"invited_by": actor.get_full_name() if actor is not None and actor.pk else ""},
    )


def _check_invitable(user: User) -> None:
    if user.deleted_at or not user.is_active:
        raise ValidationError("This person is blocked or deleted: unblock them first.")
    if user.has_usable_password():
        raise ValidationError("This person has already set a password: send a password reset instead.")


@transaction.atomic
def invitation_resend(*, actor: User | None, user: User) -> User:
    """Send a new invitation to a person who has not set a password; earlier links stop
    working (a new unusable password changes what Django's tokens are made from)."""
    _check_invitable(user)
    user.set_unusable_password()
    user.invited_at = timezone.now()
    user.save(update_fields=["password", "invited_at", "updated_at"])
    audit_record(actor=actor, action="user.invitation_resend", target=user)
    _invitation_email(user, actor)
    return user


@transaction.atomic
def invitation_revoke(*, actor: User | None, user: User) -> User:
    """Make the links of a pending invitation useless; the person stays, without a password
    and without a pending invitation, until one is sent again or they are deleted."""
    _check_invitable(user)
    if user.invited_at is None:
        raise ValidationError("There is no pending invitation to revoke.")
    user.set_unusable_password()
    user.invited_at = None
    user.save(update_fields=["password", "invited_at", "updated_at"])
    audit_record(actor=actor, action="user.invitation_revoke", target=user)
    return user


@transaction.atomic
def password_reset_send(*, actor: User | None, user: User) -> User:
    """Email ``user`` a single-use link to choose a new password. Nobody else sees or types
    it; the current password keeps working until the link is used (block the person to stop
    it at once)."""
    if user.deleted_at or not user.is_active:
        raise ValidationError("This person is blocked or deleted: unblock them first.")
    if not user.has_usable_password():
        raise ValidationError("This person has not set a password yet: resend the invitation instead.")
    password_link_send(
        user=user,
        purpose="reset",
        subject=f"Reset your {settings.PRODUCT_NAME} password",
        template="password_reset_admin",
    )
    audit_record(actor=actor, action="user.password_reset_sent", target=user)
    return user


@transaction.atomic
def user_delete(*, actor: User | None, user: User, revoke_access: AccessRevoker | None = None) -> User:
    """Turn ``user`` into a tombstone: the row stays, because timesheet entries and audit
    entries point at it, with the name, and the email in ``former_email``, for payroll.

    Everything that lets anyone act as them goes: password, sessions, tokens and what
    ``revoke_access`` takes away (their roles, groups and consents), staff access, profile
    picture. The email column gets an address under ``.invalid`` (RFC 2606), so that the
    real one can be invited again as a new person. People who reported to them report to
    nobody.
    """
    if actor is not None and actor.pk == user.pk:
        raise ValidationError("You cannot delete yourself: ask another administrator.")
    if user.deleted_at:
        raise ValidationError("This person is already deleted.")
    before = {"email": user.email, "name": user.name, "is_active": user.is_active}
    # Inactive first, as blocking does: the sessions that end now end for a person who is
    # leaving (one back-channel message for the person, not one per browser).
    User.objects.filter(pk=user.pk).update(is_active=False)
    sessions = sessions_delete(user=user)
    revoked = revoke_access(user=user) if revoke_access is not None else 0
    User.objects.filter(manager=user).update(manager=None)
    user.former_email, user.email = user.email, f"deleted-{user.sub}@deleted.invalid"
    user.set_unusable_password()
    user.is_active = user.is_staff = user.email_verified = False
    user.nickname = user.picture = ""
    user.invited_at = None
    user.deleted_at = timezone.now()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    audit_record(
        actor=actor,
        action="user.delete",
        target=user,
        before=before,
        after={"deleted": True, "sessions_ended": sessions, "grants_revoked": revoked},
    )
    return user
