"""OAuth applications (django-oauth-toolkit's application model, swapped in) and the APIs each may call."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from jwcrypto import jwk
from oauth2_provider.models import AbstractApplication

from apis.keys import as_jwk, signing_key_current
from apis.models import Api, Scope

from .callbacks import port_valid, validate_callback, validate_origin
from .jwks import jwks_problems, jwks_uri_problem
from .types import DEVICE_FLOW_TYPES, PROFILES, AppType, AuthMethod

DAY = 24 * 3600
BACKCHANNEL_HTTP_HOSTS = {"127.0.0.1", "localhost"}
CONFIDENTIAL_METHODS = [AuthMethod.BASIC, AuthMethod.POST, AuthMethod.PRIVATE_KEY_JWT]


def validate_backchannel_uri(uri: str) -> None:
    """A back-channel logout URL: https, or http to this machine (a test or a sidecar);
    absolute, no fragment (Back-Channel Logout 1.0 §2.2), no credentials, a valid port."""
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise ValidationError(f"{uri}: a back-channel logout URL cannot have a fragment.")
    if parts.username or parts.password or not port_valid(uri):
        raise ValidationError(f"{uri}: not a valid back-channel logout URL.")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in BACKCHANNEL_HTTP_HOSTS:
        return
    raise ValidationError(
        f"{uri}: back-channel logout URLs must use https (http only for 127.0.0.1 or localhost)."
    )


def key_problems(client: Client) -> dict[str, list[str]]:
    """What is wrong with an application's registered public keys (private_key_jwt)."""
    errors: dict[str, list[str]] = {}
    if client.jwks is not None:
        errors["jwks"] = jwks_problems(client.jwks)
    if client.jwks_uri:
        problem = jwks_uri_problem(client.jwks_uri)
        errors["jwks_uri"] = [problem] if problem else []
        if client.jwks is not None:
            errors["jwks_uri"].append("Give either a JWKS or a JWKS URL, not both.")
    keyless = client.jwks is None and not client.jwks_uri
    if client.token_endpoint_auth_method == AuthMethod.PRIVATE_KEY_JWT and keyless:
        errors["jwks"] = ["private_key_jwt needs the application's public keys: paste a JWKS or a JWKS URL."]
    return {field: problems for field, problems in errors.items() if problems}


class Client(AbstractApplication):
    """An OAuth 2.0 / OIDC client: django-oauth-toolkit's application, swapped in.

    The application type decides what DOT's own fields must be (public or confidential,
    which grant); the database refuses any other combination.
    """

    AppType = AppType
    AuthMethod = AuthMethod

    app_type = models.CharField("application type", max_length=20, choices=AppType.choices)
    description = models.TextField(blank=True, max_length=1000)
    logo_uri = models.URLField("logo URL", blank=True, max_length=500)
    token_endpoint_auth_method = models.CharField(
        "token endpoint authentication", max_length=30, choices=AuthMethod.choices
    )
    first_party = models.BooleanField(
        "first-party application",
        default=False,
        help_text="Ours: may skip the consent screen for APIs that allow it.",
    )
    rotate_refresh_token = models.BooleanField(
        "rotate refresh tokens", default=True, help_text="Issue a new refresh token at every use."
    )
    refresh_token_absolute_lifetime = models.PositiveIntegerField(
        "refresh token absolute lifetime (seconds)",
        default=30 * DAY,
        validators=[MinValueValidator(60), MaxValueValidator(365 * DAY)],
        help_text="After this long since sign-in, the user must sign in again.",
    )
    refresh_token_idle_lifetime = models.PositiveIntegerField(
        "refresh token idle lifetime (seconds)",
        default=15 * DAY,
        validators=[MinValueValidator(60), MaxValueValidator(365 * DAY)],
        help_text="A refresh token unused for this long expires.",
    )
    may_introspect = models.ManyToManyField(
        Api,
        blank=True,
        related_name="introspecting_clients",
        verbose_name="may introspect tokens for",
        help_text="APIs whose access tokens this application may introspect (their resource server); "
        "any application may introspect its own tokens.",
    )
    logout_revokes_refresh_tokens = models.BooleanField(
        "sign-out revokes refresh tokens",
        default=False,
        help_text="When the application signs a person out, also revoke its refresh tokens "
        "for that person (otherwise only this server's session ends).",
    )
    backchannel_logout_uri = models.URLField(
        "back-channel logout URL",
        blank=True,
        max_length=500,
        help_text="This server POSTs a signed logout token here when a person's session ends "
        "(https; http only for 127.0.0.1 or localhost).",
    )
    backchannel_logout_session_required = models.BooleanField(
        "back-channel logout needs sid",
        default=False,
        help_text="The application needs the session id (sid) in ID tokens and logout tokens.",
    )
    require_mfa = models.BooleanField(
        "require multi-factor sign-in",
        default=False,
        help_text="Ask for a second factor whenever someone signs in to this application",
    )
    # Protocol options an application opts into (issue 19): sender-constrained tokens (RFC
    # 9449), its public keys for private_key_jwt (RFC 7523), pushed authorization requests
    # (RFC 9126) and the device authorization grant (RFC 8628).
    require_dpop = models.BooleanField(
        "require DPoP",
        default=False,
        help_text="Issue tokens to this application only when bound to its key with a DPoP proof.",
    )
    jwks = models.JSONField(
        "public keys (JWKS)",
        null=True,
        blank=True,
        help_text="The JSON Web Key Set whose keys sign this application's private_key_jwt assertions.",
    )
    jwks_uri = models.URLField(
        "JWKS URL",
        blank=True,
        max_length=500,
        help_text="Where this application publishes its JSON Web Key Set (https only).",
    )
    require_par = models.BooleanField(
        "require pushed authorization requests",
        default=False,
        help_text="Accept authorization requests only through /oauth/par.",
    )
    device_code_enabled = models.BooleanField(
        "allow the device flow",
        default=False,
        help_text="Let command-line tools and TVs sign people in with a code typed at /activate.",
    )

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        app_type__in=[AppType.NATIVE, AppType.SPA],
                        client_type=AbstractApplication.CLIENT_PUBLIC,
                        authorization_grant_type=AbstractApplication.GRANT_AUTHORIZATION_CODE,
                        token_endpoint_auth_method=AuthMethod.NONE,
                    )
                    | models.Q(
                        app_type=AppType.REGULAR_WEB,
                        client_type=AbstractApplication.CLIENT_CONFIDENTIAL,
                        authorization_grant_type=AbstractApplication.GRANT_AUTHORIZATION_CODE,
                        token_endpoint_auth_method__in=CONFIDENTIAL_METHODS,
                    )
                    | models.Q(
                        app_type=AppType.M2M,
                        client_type=AbstractApplication.CLIENT_CONFIDENTIAL,
                        authorization_grant_type=AbstractApplication.GRANT_CLIENT_CREDENTIALS,
                        token_endpoint_auth_method__in=CONFIDENTIAL_METHODS,
                    )
                ),
                name="clients_client_type_consistent",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    refresh_token_idle_lifetime__lte=models.F("refresh_token_absolute_lifetime")
                ),
                name="clients_client_idle_within_absolute",
            ),
            models.CheckConstraint(
                condition=models.Q(backchannel_logout_uri="")
                | models.Q(backchannel_logout_uri__startswith="https://")
                | models.Q(backchannel_logout_uri__startswith="http://127.0.0.1")
                | models.Q(backchannel_logout_uri__startswith="http://localhost"),
                name="clients_client_backchannel_https",
            ),
            models.CheckConstraint(
                condition=~models.Q(token_endpoint_auth_method=AuthMethod.PRIVATE_KEY_JWT)
                | models.Q(jwks__isnull=False)
                | ~models.Q(jwks_uri=""),
                name="clients_client_private_key_jwt_has_keys",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.client_id

    @property
    def profile(self):
        return PROFILES[self.app_type]

    def clean(self) -> None:
        """Validate callbacks, logout URLs and origins for this application type.

        Replaces DOT's clean(), whose single scheme list cannot tell a native app's
        private-use scheme from a web app's https.
        """
        errors: dict[str, list[str]] = {}
        dev = settings.DEBUG
        for field in ("redirect_uris", "post_logout_redirect_uris"):
            for uri in getattr(self, field).split():
                try:
                    validate_callback(uri, app_type=self.app_type, allow_http_localhost=dev)
                except ValidationError as error:
                    errors.setdefault(field, []).extend(error.messages)
        for origin in self.allowed_origins.split():
            try:
                validate_origin(origin, allow_http_localhost=dev)
            except ValidationError as error:
                errors.setdefault("allowed_origins", []).extend(error.messages)
        if self.profile.has_callbacks and not self.redirect_uris.split():
            errors.setdefault("redirect_uris", []).append("Register at least one callback URL.")
        if not self.profile.has_callbacks and self.redirect_uris.split():
            errors.setdefault("redirect_uris", []).append(
                "Machine-to-machine applications have no callbacks."
            )
        if self.backchannel_logout_uri:
            try:
                validate_backchannel_uri(self.backchannel_logout_uri)
            except ValidationError as error:
                errors.setdefault("backchannel_logout_uri", []).extend(error.messages)
        if self.device_code_enabled and self.app_type not in DEVICE_FLOW_TYPES:
            errors.setdefault("device_code_enabled", []).append(
                "Only native and regular web applications can sign people in with the device flow."
            )
        if self.require_mfa and not self.profile.has_callbacks:
            errors.setdefault("require_mfa", []).append(
                "Machine-to-machine applications have no sign-in to ask a second factor at."
            )
        for field, problems in key_problems(self).items():
            errors.setdefault(field, []).extend(problems)
        if self.refresh_token_idle_lifetime > self.refresh_token_absolute_lifetime:
            errors.setdefault("refresh_token_idle_lifetime", []).append(
                "The idle lifetime cannot exceed the absolute lifetime."
            )
        if errors:
            raise ValidationError(errors)

    def get_allowed_schemes(self) -> list[str]:
        """Schemes this client may be redirected to: those of its registered callbacks.

        A native app's private-use scheme (``com.abcinc.timesheets``) is allowed for that
        app only, instead of for every client through a global setting.
        """
        uris = f"{self.redirect_uris} {self.post_logout_redirect_uris}".split()
        return sorted({urlsplit(uri).scheme for uri in uris if urlsplit(uri).scheme})

    def redirect_uri_allowed(self, uri: str) -> bool:
        # DOT matches a registered loopback callback with any port (RFC 8252 §7.3), even 0 or
        # 99999: only a port a socket can listen on is any port.
        return port_valid(uri) and super().redirect_uri_allowed(uri)

    def post_logout_redirect_uri_allowed(self, uri: str) -> bool:
        return port_valid(uri) and super().post_logout_redirect_uri_allowed(uri)

    @property
    def jwk_key(self) -> jwk.JWK:
        """The key that signs this client's ID tokens: the server's current RSA key."""
        if self.algorithm != self.RS256_ALGORITHM:
            raise ImproperlyConfigured("ID tokens are signed with RS256 only.")
        return as_jwk(signing_key_current())


class ClientGrant(models.Model):
    """A machine client's access to one API, with a subset of its scopes (Auth0's APIs tab)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="grants")
    api = models.ForeignKey(Api, on_delete=models.CASCADE, related_name="client_grants")
    scopes = models.ManyToManyField(Scope, blank=True, related_name="client_grants")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["api__name"]
        constraints = [models.UniqueConstraint(fields=["client", "api"], name="clients_grant_unique")]

    def __str__(self) -> str:
        return f"{self.client} → {self.api}"
