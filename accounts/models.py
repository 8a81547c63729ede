"""The ground floor's tables: users (swapped in as AUTH_USER_MODEL), the audit log, sign-in sessions."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .identifiers import login_identifier


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=login_identifier(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str | None) -> User:
        # Emails are stored as login_identifier() spells them; the lockout counts failures
        # under the same spelling (accounts.identifiers.axes_username), so a locked account
        # cannot be reached by typing it another way.
        return self.get(email__iexact=login_identifier(username))


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: an employee, a contractor or an administrator.

    ``sub`` is the stable, opaque OIDC subject. It is a UUID so that it never reveals how
    many users exist and can never collide with a client id.
    """

    class WorkerType(models.TextChoices):
        EMPLOYEE = "employee", "Employee"
        CONTRACTOR = "contractor", "Contractor"

    sub = models.UUIDField("subject", default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("email address", unique=True)
    email_verified = models.BooleanField(default=False)
    name = models.CharField(max_length=150, blank=True)
    nickname = models.CharField(max_length=60, blank=True)
    picture = models.URLField("picture URL", max_length=500, blank=True)
    worker_type = models.CharField(max_length=20, choices=WorkerType.choices, default=WorkerType.EMPLOYEE)
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )

    class StaffRole(models.TextChoices):
        ADMIN = "admin", "Administrator"
        AUDITOR = "auditor", "Auditor (read-only)"

    staff_role = models.CharField(
        max_length=10,
        choices=StaffRole.choices,
        blank=True,
        default="",
        help_text="What a staff member may do in the dashboard: change things, or only look. "
        "Empty for everyone else.",
    )
    is_staff = models.BooleanField(
        "staff status", default=False, help_text="May use the administration dashboard."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    invited_at = models.DateTimeField(
        null=True, blank=True, help_text="When the pending invitation was sent; empty when none is."
    )
    # A deleted person stays as a tombstone, because timesheet entries (PROTECT) and audit
    # entries point at the row: it keeps the name, and the email in ``former_email`` for
    # payroll, while ``email`` is replaced so that the address can be invited again.
    deleted_at = models.DateTimeField(null=True, blank=True)
    former_email = models.EmailField(blank=True, help_text="A deleted person's email address.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    # Not a field: whether the save in progress changes the password, noted by a pre_save
    # receiver for its post_save partner (authz.signals ends the user's tokens then).
    _password_changed: bool

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=~models.Q(manager=models.F("id")), name="accounts_user_not_own_manager"
            ),
            models.CheckConstraint(
                condition=models.Q(is_staff=True) | models.Q(staff_role=""),
                name="accounts_user_staff_role_only_for_staff",
            ),
            models.CheckConstraint(
                condition=models.Q(deleted_at__isnull=True) | models.Q(is_active=False, is_staff=False),
                name="accounts_user_deleted_cannot_sign_in",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.former_email} (deleted)" if self.deleted_at else self.email

    def clean(self) -> None:
        super().clean()
        self.email = login_identifier(self.email)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A staff role means something only with staff access: it goes when access goes, so
        # that no later promotion revives an old "admin". Staff saved without a role are
        # administrators, as createsuperuser and the demo seed make them. Every write through
        # the model keeps this; the database refuses a role without staff access from any other.
        self.staff_role = (self.staff_role or self.StaffRole.ADMIN) if self.is_staff else ""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"is_staff", "staff_role"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "is_staff", "staff_role"}
        super().save(*args, **kwargs)

    @property
    def is_dashboard_admin(self) -> bool:
        return self.is_active and self.is_staff and self.staff_role == self.StaffRole.ADMIN

    @property
    def status(self) -> str:
        """``deleted``, ``blocked``, ``invited`` (no password set yet) or ``active``; the users
        list computes the same in SQL (``accounts.selectors.user_status``)."""
        if self.deleted_at:
            return "deleted"
        if not self.is_active:
            return "blocked"
        return "active" if self.has_usable_password() else "invited"

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.nickname or self.name or self.email


class AuditEntry(models.Model):
    """One administrative change or event (sign-in, token, consent…): who, what,
    before/after, when, where, and for which application and API.

    ``at`` is when it happened, set when the row is built: events buffered in memory
    (``accounts.events``) are written later and keep their own time.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=254, help_text="The actor's email then, or 'system'.")
    action = models.CharField(max_length=60, db_index=True)
    target_type = models.CharField(max_length=50, blank=True, db_index=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    client_id = models.CharField(max_length=100, blank=True, help_text="The application concerned.")
    audience = models.CharField(max_length=200, blank=True, help_text="The API concerned (its identifier).")
    user_agent = models.CharField(max_length=300, blank=True)
    details = models.JSONField(null=True, blank=True, help_text="What else the event carries.")
    # A database default too: the token endpoint's events are inserted without the ORM.
    request_id = models.CharField(
        max_length=128,
        blank=True,
        default="",
        db_default="",
        help_text="The request that wrote it (X-Request-ID).",
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        # The logs page's filters, each newest first.
        indexes = [
            models.Index(fields=["action", "at"], name="audit_action_at"),
            models.Index(fields=["actor_label", "at"], name="audit_actor_at"),
            models.Index(fields=["target_label", "at"], name="audit_target_at"),
            models.Index(fields=["client_id", "at"], name="audit_client_at"),
            models.Index(fields=["audience", "at"], name="audit_audience_at"),
            models.Index(fields=["ip", "at"], name="audit_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target_label}"


class UserSession(models.Model):
    """A signed-in browser session, remembered so that staff can see it and end it.

    Django's session store knows sessions only by key; this row ties the key to its user.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="browser_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} session from {self.ip or 'unknown address'}"


# The second factors we keep ourselves live beside the sign-in code that uses them.
from .mfa.models import Passkey, RecoveryCode  # noqa: E402, F401
