"""The API registry: APIs (resource servers), their scopes, and the server's signing keys."""

from __future__ import annotations

import re
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

# RFC 6749 §3.3 scope-token: printable ASCII except space, double quote and backslash.
SCOPE_PATTERN = r"^[\x21\x23-\x5B\x5D-\x7E]+$"  # the same, for JSON Schema (ECMA: no \Z)
scope_value_validator = RegexValidator(
    r"^[\x21\x23-\x5B\x5D-\x7E]+\Z",
    "A scope is one word of printable characters: no spaces, quotes or backslashes.",
)
# An identifier is the RFC 8707 resource indicator of the API: an absolute URI with a
# scheme and a host, and no fragment.
# The same rule as a JSON Schema pattern (ECMA regex: no \Z, no flags) for the APIs' schemas.
# Python's \s also covers \x1c-\x1f and \x85, ECMAScript's \ufeff: both are named.
IDENTIFIER_PATTERN = (
    r"^[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#\x00\x1c-\x1f\x85\ufeff]+[^\s#\x00\x1c-\x1f\x85\ufeff]*$"
)
identifier_validator = RegexValidator(
    r"^[a-z][a-z0-9+.-]*://[^\s/?#]+[^\s#]*\Z",
    "Use an absolute URI without spaces or fragment, such as https://api.abcinc.example/.",
    flags=re.IGNORECASE,
)
# Scopes that mean something to OpenID Connect itself and are never an API's permission.
OPENID, PROFILE, EMAIL, OFFLINE_ACCESS = "openid", "profile", "email", "offline_access"
OIDC_SCOPES = frozenset({OPENID, PROFILE, EMAIL, OFFLINE_ACCESS})
MAX_TOKEN_LIFETIME = 30 * 24 * 3600


def generate_hs256_secret() -> str:
    return secrets.token_urlsafe(48)  # 384 bits, beyond HS256's 256-bit minimum (RFC 7518 §3.2)


class Api(models.Model):
    """A resource server: the audience of access tokens (Auth0's "API")."""

    class Algorithm(models.TextChoices):
        RS256 = "RS256", "RS256 (asymmetric: verify with the JWKS)"
        HS256 = "HS256", "HS256 (symmetric: verify with this API's secret)"
        ES256 = "ES256", "ES256 (asymmetric, elliptic curve P-256: verify with the JWKS)"

    name = models.CharField(max_length=100)
    identifier = models.CharField(
        max_length=255,
        unique=True,
        validators=[identifier_validator],
        help_text="The audience (aud) of this API's access tokens. It cannot be changed later.",
    )
    signing_algorithm = models.CharField(max_length=5, choices=Algorithm.choices, default=Algorithm.RS256)
    hs256_secret = models.CharField(max_length=100, default=generate_hs256_secret, editable=False)
    token_lifetime = models.PositiveIntegerField(
        "access-token lifetime (seconds)",
        default=86400,
        validators=[MinValueValidator(60), MaxValueValidator(MAX_TOKEN_LIFETIME)],
    )
    allow_offline_access = models.BooleanField(
        default=False, help_text="Issue refresh tokens when a client asks for offline_access."
    )
    rbac_enabled = models.BooleanField(
        "enable RBAC", default=False, help_text="Grant users only the scopes their roles allow."
    )
    add_permissions_claim = models.BooleanField(
        "add permissions in the access token", default=False, help_text="A permissions claim listing them."
    )
    allow_skip_consent = models.BooleanField(
        "allow skipping user consent", default=True, help_text="For first-party applications."
    )
    system = models.BooleanField(
        default=False,
        editable=False,
        help_text="The server's own Management API: created by a migration, never renamed or deleted.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(token_lifetime__gte=60, token_lifetime__lte=MAX_TOKEN_LIFETIME),
                name="apis_api_token_lifetime_range",
            ),
            models.CheckConstraint(
                condition=models.Q(signing_algorithm__in=["RS256", "HS256", "ES256"]),
                name="apis_api_algorithm_valid",
            ),
            models.UniqueConstraint(
                fields=["system"], condition=models.Q(system=True), name="apis_api_one_system_api"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # The identifier is in every token already issued and every API's configuration:
        # renaming it would silently break them, so it is immutable, whatever the caller.
        if self.pk is not None:
            stored = Api.objects.filter(pk=self.pk).values_list("identifier", flat=True).first()
            if stored is not None and stored != self.identifier:
                raise ValidationError({"identifier": "An API's identifier cannot be changed."})
        super().save(*args, **kwargs)


class Scope(models.Model):
    """A permission that an API defines, e.g. ``read:timesheets``."""

    api = models.ForeignKey(Api, on_delete=models.CASCADE, related_name="scopes")
    value = models.CharField(max_length=100, validators=[scope_value_validator])
    description = models.CharField(max_length=200, help_text="Shown to people on the consent screen.")

    class Meta:
        ordering = ["value"]
        constraints = [
            models.UniqueConstraint(fields=["api", "value"], name="apis_scope_unique_per_api"),
            models.CheckConstraint(
                condition=~models.Q(value__in=sorted(OIDC_SCOPES)), name="apis_scope_not_oidc"
            ),
        ]

    def __str__(self) -> str:
        return self.value

    def clean(self) -> None:
        if self.value in OIDC_SCOPES:
            raise ValidationError(
                {"value": f"“{self.value}” is an OpenID Connect scope, not an API permission."}
            )


# A current key signs; a next key (not yet activated) is only published, ahead of its turn.
CURRENT_KEY = models.Q(activated_at__isnull=False, retired_at__isnull=True)
NEXT_KEY = models.Q(activated_at__isnull=True, retired_at__isnull=True)


class SigningKey(models.Model):
    """A key pair of the server: RSA (RS256) signs ID tokens and RS256 access tokens, EC P-256
    (ES256) the access tokens of ES256 APIs.

    A key is *next* from its creation until ``activated_at``: published in the JWKS so that
    relying parties hold it before it signs, never used to sign. It is *current* (the one
    key per algorithm that signs) from ``activated_at`` until ``retired_at``. A retired key
    stays published until every token it signed has expired; after that it is deleted.
    """

    class Algorithm(models.TextChoices):
        RS256 = "RS256", "RS256 (RSA 2048)"
        ES256 = "ES256", "ES256 (EC P-256)"

    kid = models.CharField(max_length=64, unique=True, help_text="RFC 7638 thumbprint of the public key.")
    algorithm = models.CharField(max_length=10, choices=Algorithm.choices, default=Algorithm.RS256)
    private_key_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, help_text="Published in the JWKS since.")
    activated_at = models.DateTimeField(
        null=True, blank=True, help_text="Signs since; empty for a next key, published but not signing yet."
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(algorithm__in=["RS256", "ES256"]), name="apis_signingkey_algorithm_valid"
            ),
            # Only a key that signed can retire: a next key is either activated or deleted.
            models.CheckConstraint(
                condition=models.Q(retired_at__isnull=True) | models.Q(activated_at__isnull=False),
                name="apis_signingkey_retired_after_activated",
            ),
            # Two processes (beat ticks, workers, first uses) cannot both make a key current or
            # publish a next one: the second write fails instead of leaving two.
            models.UniqueConstraint(
                fields=["algorithm"], condition=CURRENT_KEY, name="apis_signingkey_one_current"
            ),
            models.UniqueConstraint(
                fields=["algorithm"], condition=NEXT_KEY, name="apis_signingkey_one_next"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.algorithm} {self.kid}"


class Revocation(models.Model):
    """A durable fact that makes access tokens invalid at every API: the source of truth that
    ``apis.revocation`` consults (through caches that only speed it up).

    A ``grant`` fact refuses every token of one grant (its ``gid``); the others refuse the
    tokens of a subject issued at or before ``not_before``. A fact is kept until every token
    it can affect has expired (``expires_at``), then the clean-up task deletes it.
    """

    class Kind(models.TextChoices):
        GRANT = "grant", "every token of a grant"
        USER = "user", "a person's tokens"
        CLIENT = "client", "an application's tokens"
        AUDIENCE = "audience", "every token for an API identifier"
        USER_AUDIENCE = "user-audience", "a person's tokens for one API"
        CLIENT_AUDIENCE = "client-audience", "an application's tokens for one API"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The grant id, the person's sub, the client id, the API identifier, or "<sub> <identifier>"
    # and "<client id> <identifier>" for the pairs (identifiers never contain spaces).
    subject = models.CharField(max_length=600)
    not_before = models.FloatField(help_text="Tokens issued at or before this (epoch seconds) are refused.")
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject"], name="apis_revocation_kind_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}"


class IdempotentRequest(models.Model):
    """The first answer to a create sent with an ``Idempotency-Key``: the same client, key and
    body get this answer again instead of a second object (apis.rest.idempotency).

    Written in the create's own transaction, so only a create that happened is remembered,
    and the unique key makes a concurrent duplicate wait for the first, then replay it.
    """

    client_id = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "key"], name="apis_idempotentrequest_client_key"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.key}"
