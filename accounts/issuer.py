"""Absolute URLs under the issuer (``OIDC_ISSUER``), as clients and tokens name them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse


def issuer_url(route: str, **kwargs: Any) -> str:
    """The absolute URL of the named route, e.g. ``issuer_url("oauth2_provider:token")``."""
    return settings.OIDC_ISSUER.rstrip("/") + reverse(route, kwargs=kwargs or None)
