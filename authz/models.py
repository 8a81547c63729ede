"""The authorization tables: roles, groups and their nesting, consents, rule settings, access
tokens, the start of each refresh-token family, and how many access tokens were issued."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from oauth2_provider.settings import oauth2_settings


class AccessTokenRecord(models.Model):
    """What revocation and introspection need to know about an issued JWT access token.

    django-oauth-toolkit keeps its own row per access token (looked up by checksum); this
    adds the JWT's ``jti`` and the grant it belongs to: the authorization that a code
    redemption started and that its refresh tokens continue (their ``token_family``).
    """

    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="record"
    )
    jti = models.UUIDField(unique=True)
    grant_id = models.UUIDField(db_index=True)
    audience = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return str(self.jti)


class RedeemedCode(models.Model):
    """An authorization code already redeemed, and the grant it started (by checksum, never
    the code): a replay of it ends that grant (RFC 9700 §4.5.3.1), in any process, after any
    restart, until the code would long have expired."""

    checksum = models.CharField(max_length=64, primary_key=True)
    grant_id = models.UUIDField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"code {self.checksum[:8]}… of grant {self.grant_id}"


class GrantFamily(models.Model):
    """When a grant's refresh-token family began: the sign-in its absolute lifetime counts from.

    Made with the grant's first refresh token (``token_family`` is the grant's id). The
    clean-up deletes rotated-out refresh tokens 30 days after their rotation, so the oldest
    surviving token cannot say when a longer-lived family began; this row keeps it until
    the family's absolute lifetime has passed, and then goes with the family's tokens.
    """

    grant_id = models.UUIDField(primary_key=True)
    client = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="grant_families"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grant_families"
    )
    started_at = models.DateTimeField(db_index=True)
    # RFC 7638 thumbprint of the DPoP key a public client's family is bound to (blank: none);
    # each refresh must prove that key (authz.oauth.dpop_binding).
    dpop_jkt = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"grant {self.grant_id} since {self.started_at:%Y-%m-%d %H:%M}"


class DeviceAuthorization(models.Model):
    """What django-oauth-toolkit's device grant row lacks (RFC 8628, ``authz.oauth.device``):
    the audience the device asked for, and how the person who approved it signed in (the ID
    token's ``amr``, ``acr`` and ``auth_time``, and what the rules see). Goes with the row,
    which goes when its tokens are issued."""

    device_grant = models.OneToOneField(
        oauth2_settings.DEVICE_GRANT_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="authorization",
    )
    audience = models.CharField(max_length=255, blank=True)
    amr = models.JSONField(default=list)
    acr = models.CharField(max_length=200, blank=True)
    auth_time = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"device request {self.device_grant_id} for {self.audience or '/userinfo'}"


class GrantSignIn(models.Model):
    """How the person of a refresh-token family signed in (``amr``, ``acr``, ``auth_time``),
    so that every refreshed ID token states it (authz.oauth.sign_ins); ends with the family."""

    family = models.OneToOneField(
        GrantFamily, primary_key=True, on_delete=models.CASCADE, related_name="sign_in"
    )
    amr = models.JSONField(default=list)
    acr = models.CharField(max_length=200, blank=True)
    auth_time = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"sign-in of grant {self.family_id}: {' '.join(self.amr)}"


class Role(models.Model):
    """A named set of permissions (API scopes), possibly from several APIs."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    permissions = models.ManyToManyField("apis.Scope", blank=True, related_name="roles")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="roles")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Group(models.Model):
    """People, roles and other groups. Members of a nested group are members of its parents.

    ``subgroups`` holds the nested groups; membership and roles flow down to the members
    of every subgroup, however deep. The nesting is kept acyclic by the services.
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="authz_groups")
    roles = models.ManyToManyField(Role, blank=True, related_name="groups")
    subgroups: models.ManyToManyField[Group, GroupNesting] = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="parent_groups", through="GroupNesting"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MfaPolicy(models.Model):
    """Who must sign in with a second factor: one row (pk 1), read at every sign-in.

    Per-application requirements are the client's ``require_mfa``; this is the
    organisation-wide part (``authz.mfa.mfa_required``, named in ``MFA_POLICY``).
    """

    SINGLETON = 1

    class Mode(models.TextChoices):
        NEVER = "never", "Never"
        STAFF = "staff", "Required for staff"
        GROUPS = "groups", "Required for members of chosen groups"

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON, editable=False)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.NEVER)
    groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="+",
        help_text="For “members of chosen groups”: these and the groups nested in them.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "MFA policy"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="authz_mfapolicy_singleton"),
            models.CheckConstraint(
                condition=models.Q(mode__in=["never", "staff", "groups"]), name="authz_mfapolicy_mode_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.get_mode_display()


class GroupNesting(models.Model):
    parent = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="child_links")
    child = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="parent_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["parent", "child"], name="authz_groupnesting_unique"),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("child")), name="authz_group_not_own_child"
            ),
        ]

    def __str__(self) -> str:
        return f"group {self.child_id} in group {self.parent_id}"


class Consent(models.Model):
    """What a person allowed an application: remembered per user, client and scope set."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    client = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="consents"
    )
    audience = models.CharField(max_length=255, blank=True)
    scopes = models.TextField(help_text="Space-separated, sorted.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client", "audience", "scopes"], name="authz_consent_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.client}: {self.scopes}"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class RuleSetting(models.Model):
    """Whether, and in which order, a rule registered in settings runs."""

    path = models.CharField(max_length=200, unique=True, help_text="Dotted path of the rule callable.")
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "path"]

    def __str__(self) -> str:
        return self.path


class TokenIssuance(models.Model):
    """How many access tokens were issued on a UTC day, per grant type, audience and client.

    Nothing else outlives issuance: machine clients' tokens are never stored and people's
    token rows go when they expire, rotate or are revoked. The audience (the API's
    identifier, empty for a token for /userinfo alone) and the client are kept by name, not
    by key: what was issued stays counted after the client or the API is deleted. Written by
    ``authz.oauth.issuance_counts`` in increments, never per token.
    """

    class GrantType(models.TextChoices):
        AUTHORIZATION_CODE = "authorization_code"
        REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant type's name
        CLIENT_CREDENTIALS = "client_credentials"
        DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code", "device_code"

    day = models.DateField(help_text="The UTC day the tokens were issued.")
    grant_type = models.CharField(max_length=64, choices=GrantType.choices)
    audience = models.CharField(max_length=255, blank=True)
    client_id = models.CharField(max_length=255)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "grant_type", "audience", "client_id"], name="authz_tokenissuance_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.grant_type} {self.client_id} → {self.audience or '/userinfo'}: {self.count}"


class PushedAuthorizationRequest(models.Model):
    """An authorization request a client pushed to /oauth/par (RFC 9126), until it is used.

    ``request_id`` is the random part of its ``request_uri``. /authorize takes it once
    (``expanded`` turns true, first one wins) and the browser then carries the pushed
    parameters; they must still match this row, and the row is deleted when the request
    ends at the client (a code or an error), so one push yields at most one answer.
    """

    request_id = models.CharField(max_length=64, primary_key=True)
    client = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="pushed_requests"
    )
    parameters = models.JSONField(help_text="The pushed parameters: a list of [name, value] pairs.")
    expanded = models.BooleanField(default=False)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"pushed request {self.request_id[:8]}… of {self.client_id}"
