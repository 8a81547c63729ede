"""The factors we keep ourselves: passkeys and recovery codes. Authenticator apps are
django-otp's ``TOTPDevice`` (``django_otp.plugins.otp_totp``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Passkey(models.Model):
    """A WebAuthn credential: a passkey or a security key, named by its owner."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys")
    name = models.CharField(max_length=60)
    # base64url of the credential id (at most 1,023 bytes: WebAuthn §5.8.3).
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField(help_text="COSE public key.")
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    # Backed up (synced) passkeys are software keys in amr; device-bound ones hardware keys.
    backed_up = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "accounts"
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="passkey_name_unique_per_user"),
        ]

    def __str__(self) -> str:
        return self.name


class RecoveryCode(models.Model):
    """One of a person's single-use recovery codes, kept only as a keyed hash."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "accounts"
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique_per_user"),
        ]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"
