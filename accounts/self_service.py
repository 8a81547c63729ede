"""Self-service: the links people receive by email, and what using them does.

Password links (a reset, an invitation) are Django's password-reset tokens, one generator per
purpose: each has its own salt, so a link made for one purpose is refused for the other, and
its own lifetime. A token is a keyed hash of the person's password hash, last sign-in and
email, so setting a password (or signing in, or a new invitation) spends every earlier link:
single use without storing anything.

Email verification links are signed (``TimestampSigner``) with the address inside: a link
sent before the email changed does not verify the new one.
"""

from __future__ import annotations

from typing import Any, Literal

from axes.utils import reset
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.db import transaction
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from .audit import audit_record
from .emails import email_send
from .identifiers import login_identifier
from .issuer import issuer_url
from .models import User, UserSession
from .sessions import session_store, sessions_delete
from .throttle import Limit, login_attempts_per_account


class _PasswordLinkTokens(PasswordResetTokenGenerator):
    """Django's password-reset tokens, with a salt and a lifetime per purpose."""

    def __init__(self, purpose: str, timeout_setting: str) -> None:
        super().__init__()
        self.key_salt = f"accounts.self_service.password_link.{purpose}"
        self.timeout_setting = timeout_setting

    def check_token(self, user: User | None, token: str | None) -> bool:
        # Django's own check, but against this purpose's lifetime, not PASSWORD_RESET_TIMEOUT.
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            timestamp = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        age = self._num_seconds(self._now()) - timestamp
        return 0 <= age <= getattr(settings, self.timeout_setting)


_TOKENS: dict[str, _PasswordLinkTokens] = {
    "reset": _PasswordLinkTokens("reset", "PASSWORD_RESET_TIMEOUT"),
    "invitation": _PasswordLinkTokens("invitation", "INVITATION_TIMEOUT"),
}


def link_lifetime(seconds: int) -> str:
    """``1 hour``, ``72 hours``, ``30 minutes``: a link's lifetime as emails and pages say it."""
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


# --- Password links -------------------------------------------------------------------------


def password_link(user: User, *, purpose: str) -> str:
    """The absolute URL (under the issuer) where ``user`` sets a password: ``purpose`` is
    ``"reset"`` (lasts PASSWORD_RESET_TIMEOUT) or ``"invitation"`` (INVITATION_TIMEOUT).
    Works once: setting the password, or signing in, spends it and every earlier link."""
    tokens = _TOKENS.get(purpose)
    if tokens is None:
        raise ValueError(f"Unknown password link purpose {purpose!r}")
    return issuer_url(
        "accounts:password_set",
        purpose=purpose,
        uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
        token=tokens.make_token(user),
    )


def password_link_user(*, purpose: str, uidb64: str, token: str) -> User | None:
    """The person a password link is for, or None if it is tampered with, expired, already
    used, for another purpose, or its person may not sign in (blocked, deleted)."""
    tokens = _TOKENS.get(purpose)
    if tokens is None:
        return None
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, UnicodeDecodeError):
        return None
    # Blocked and deleted people are inactive (a constraint keeps the deleted so).
    user = User.objects.filter(pk=pk, is_active=True).first()
    return user if tokens.check_token(user, token) else None


@transaction.atomic
def password_set_from_link(*, user: User, password: str, purpose: str) -> User:
    """Set the password chosen through an emailed link, end every session of the person
    (someone who knew the old password is signed out) and lift a sign-in lockout. The link
    proved the mailbox, so the email counts as verified. Validators are the form's job."""
    user.set_password(password)
    user.email_verified = True
    user.invited_at = None  # accepted: no invitation is pending any more
    user.save(update_fields=["password", "email_verified", "invited_at", "updated_at"])
    ended = sessions_delete(user=user)
    # Whoever proved the mailbox is the person: failed guesses by others no longer lock them out.
    reset(username=user.email)
    login_attempts_per_account().forget(user.email)
    action = "user.invitation_accept" if purpose == "invitation" else "user.password_reset"
    audit_record(actor=user, action=action, target=user, after={"sessions_ended": ended})
    return user


def password_reset_request(*, email: str) -> None:
    """Email a reset link to the person with this address, if there is one who can use it.

    Runs in a Celery task (``password_reset_request_later``), so that the page answers in
    the same time whether or not the address has an account. Only people with a password
    get one: an invitation that an administrator revoked must not come back this way.
    """
    user = User.objects.filter(email__iexact=login_identifier(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    password_link_send(
        user=user,
        purpose="reset",
        subject=f"Reset your {settings.PRODUCT_NAME} password",
        template="password_reset",
    )


def password_link_send(
    *, user: User, purpose: str, subject: str, template: str, context: dict[str, Any] | None = None
) -> None:
    """Email ``user`` a password link (``purpose`` as for password_link) with
    ``templates/emails/<template>``, whose context has ``user``, ``link`` and ``expires_in``
    (``72 hours``) besides ``context``. Sent after the current transaction commits."""
    link = password_link(user, purpose=purpose)
    lifetime = getattr(settings, _TOKENS[purpose].timeout_setting)
    email_send(
        to=user.email,
        subject=subject,
        template=template,
        context={"user": user, "link": link, "expires_in": link_lifetime(lifetime), **(context or {})},
    )


def password_reset_request_later(*, email: str) -> None:
    """password_reset_request, by a Celery task after the current transaction commits."""
    from .tasks import password_reset_request_task  # the task module imports this one

    transaction.on_commit(lambda: password_reset_request_task.delay(email), robust=True)


def password_reset_limits() -> tuple[Limit, Limit]:
    """ "Forgot password?" requests per client address and per email address (an hour each):
    the first keeps one machine from mailing everyone, the second one inbox from being
    flooded. Counted whether or not the address has an account, so the answer reveals none."""
    return (
        Limit("password-reset-address", settings.PASSWORD_RESET_PER_ADDRESS, 3600),
        Limit("password-reset-email", settings.PASSWORD_RESET_PER_EMAIL, 3600),
    )


# --- Password change ------------------------------------------------------------------------


@transaction.atomic
def password_change(*, user: User, password: str, keep_session_key: str | None) -> int:
    """Set the signed-in person's new password (the form checked the current one and the
    validators) and end their other sessions; how many ended."""
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    ended = _sessions_end_except(user=user, keep_session_key=keep_session_key)
    audit_record(actor=user, action="user.password_change", target=user, after={"sessions_ended": ended})
    return ended


@transaction.atomic
def sessions_end_others(*, user: User, keep_session_key: str | None) -> int:
    """ "Sign out everywhere else": end every session of ``user`` but this browser's."""
    ended = _sessions_end_except(user=user, keep_session_key=keep_session_key)
    audit_record(actor=user, action="session.end_others", target=user, after={"sessions_ended": ended})
    return ended


_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def browser_label(user_agent: str) -> str:
    """``Chrome on Windows``: a session's browser as a person recognises it (the full
    User-Agent stays available beside it)."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"


def session_rekey(*, old_key: str | None, new_key: str | None) -> None:
    """Follow a session whose key was cycled (Django's update_session_auth_hash), so that it
    stays listed among the person's sessions."""
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def _sessions_end_except(*, user: User, keep_session_key: str | None) -> int:
    rows = [row for row in user.browser_sessions.all() if row.session_key != keep_session_key]
    store = session_store()
    for row in rows:
        store.delete(row.session_key)
    user.browser_sessions.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


# --- Email verification ---------------------------------------------------------------------

_VERIFY_SALT = "accounts.self_service.email_verify"


def email_verification_link(user: User) -> str:
    token = signing.TimestampSigner(salt=_VERIFY_SALT).sign_object({"u": user.pk, "e": user.email})
    return issuer_url("accounts:email_verify", token=token)


def email_verification_limit() -> Limit:
    """Confirmation emails a person may ask for in an hour (their own inbox's flood gate)."""
    return Limit("email-verify", settings.PASSWORD_RESET_PER_EMAIL, 3600)


def email_verification_send(*, user: User) -> None:
    """Email ``user`` a link that confirms their current address."""
    email_send(
        to=user.email,
        subject=f"Confirm your email for {settings.PRODUCT_NAME}",
        template="email_verification",
        context={
            "user": user,
            "email": user.email,
            "link": email_verification_link(user),
            "expires_in": link_lifetime(settings.EMAIL_VERIFICATION_TIMEOUT),
        },
    )


class VerificationFailed(Exception):
    """The link is tampered with, expired, or for an address the person no longer has."""

    def __init__(self, reason: Literal["invalid", "expired", "changed"]) -> None:
        super().__init__(reason)
        self.reason = reason


def email_verification_user(token: str) -> User:
    """The person whose current address ``token`` confirms; raises VerificationFailed."""
    signer = signing.TimestampSigner(salt=_VERIFY_SALT)
    try:
        data = signer.unsign_object(token, max_age=settings.EMAIL_VERIFICATION_TIMEOUT)
    except signing.SignatureExpired as error:
        raise VerificationFailed("expired") from error
    except signing.BadSignature as error:
        raise VerificationFailed("invalid") from error
    if not (isinstance(data, dict) and isinstance(data.get("u"), int)):
        raise VerificationFailed("invalid")
    user = User.objects.filter(pk=data["u"], is_active=True).first()
    if user is None:
        raise VerificationFailed("invalid")
    if user.email != data.get("e"):
        raise VerificationFailed("changed")
    return user


@transaction.atomic
def email_verify(*, user: User) -> User:
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified", "updated_at"])
        audit_record(actor=user, action="user.email_verify", target=user, after={"email": user.email})
    return user
