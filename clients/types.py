"""What each kind of application is allowed to be: the Auth0 application types."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from oauth2_provider.models import AbstractApplication


class AppType(models.TextChoices):
    NATIVE = "native", "Native"
    SPA = "spa", "Single Page App"
    REGULAR_WEB = "regular_web", "Regular Web App"
    M2M = "m2m", "Machine to Machine"


# The applications a person may sign in to from another device (RFC 8628): a native app, or
# a server-side one that authenticates as at the token endpoint.
DEVICE_FLOW_TYPES = (AppType.NATIVE, AppType.REGULAR_WEB)


class AuthMethod(models.TextChoices):
    NONE = "none", "None (public client)"
    POST = "client_secret_post", "Client secret in the body (client_secret_post)"
    BASIC = "client_secret_basic", "HTTP Basic (client_secret_basic)"
    PRIVATE_KEY_JWT = "private_key_jwt", "A JWT signed with the application's key (private_key_jwt)"


@dataclass(frozen=True)
class TypeProfile:
    client_type: str
    grant_type: str
    grants: tuple[str, ...]
    auth_methods: tuple[str, ...]
    has_callbacks: bool
    summary: str

    @property
    def is_public(self) -> bool:
        return self.client_type == AbstractApplication.CLIENT_PUBLIC

    @property
    def default_auth_method(self) -> str:
        return self.auth_methods[0]


_CODE = AbstractApplication.GRANT_AUTHORIZATION_CODE
PROFILES: dict[str, TypeProfile] = {
    AppType.NATIVE: TypeProfile(
        AbstractApplication.CLIENT_PUBLIC,
        _CODE,
        ("authorization_code", "refresh_token"),
        (AuthMethod.NONE,),
        True,
        "Mobile or desktop app: authorization code with PKCE, no secret.",
    ),
    AppType.SPA: TypeProfile(
        AbstractApplication.CLIENT_PUBLIC,
        _CODE,
        ("authorization_code", "refresh_token"),
        (AuthMethod.NONE,),
        True,
        "JavaScript app in the browser: authorization code with PKCE, no secret.",
    ),
    AppType.REGULAR_WEB: TypeProfile(
        AbstractApplication.CLIENT_CONFIDENTIAL,
        _CODE,
        ("authorization_code", "refresh_token"),
        (AuthMethod.BASIC, AuthMethod.POST, AuthMethod.PRIVATE_KEY_JWT),
        True,
        "Server-side web app: authorization code with a client secret.",
    ),
    AppType.M2M: TypeProfile(
        AbstractApplication.CLIENT_CONFIDENTIAL,
        AbstractApplication.GRANT_CLIENT_CREDENTIALS,
        ("client_credentials",),
        (AuthMethod.BASIC, AuthMethod.POST, AuthMethod.PRIVATE_KEY_JWT),
        False,
        "Batch job or service: client credentials for the APIs it is granted.",
    ),
}
