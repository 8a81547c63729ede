"""The second factor's pages, in the ``accounts`` namespace: sign-in steps and the
account page's factor management (``factor_urls``), passkeys (``passkey_urls``)."""

from __future__ import annotations

from .factor_urls import urlpatterns as factor_urls
from .passkey_urls import urlpatterns as passkey_urls

urlpatterns = [*factor_urls, *passkey_urls]
