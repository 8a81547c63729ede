from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from jwcrypto import jwk
from oauth2_provider.models import AbstractApplication

from apis.keys import as_jwk, signing_key_current


class Client(AbstractApplication):
    """An OAuth 2.0 / OIDC client: django-oauth-toolkit's application, swapped in.

    Swapped from the first migration so later fields (type, grants, lifetimes) need no
    painful model swap.
    """

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        ordering = ["name"]

    def get_allowed_schemes(self) -> list[str]:
        """Schemes this client may be redirected to: those of its registered callbacks.

        A native app's private-use scheme (``com.abcinc.timesheets``) is allowed for that
        app only, instead of for every client through a global setting.
        """
        uris = f"{self.redirect_uris} {self.post_logout_redirect_uris}".split()
        return sorted({urlsplit(uri).scheme for uri in uris if urlsplit(uri).scheme})

    @property
    def jwk_key(self) -> jwk.JWK:
        """The key that signs this client's ID tokens: the server's current RSA key."""
        if self.algorithm != self.RS256_ALGORITHM:
            raise ImproperlyConfigured("ID tokens are signed with RS256 only.")
        return as_jwk(signing_key_current())
