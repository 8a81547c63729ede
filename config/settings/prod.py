"""Production: fails closed. Every secret and host comes from the environment."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import OIDC_ISSUER, REDIS_URL, SECRET_KEY, env_bool, env_str

if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of at least 50 characters.")
if not ALLOWED_HOSTS:  # noqa: F405
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this server answers to.")
if not OIDC_ISSUER or not OIDC_ISSUER.startswith("https://"):
    raise ImproperlyConfigured("OIDC_ISSUER must be set to the server's public https:// URL.")
if not REDIS_URL:
    # Several workers must share rate limits, lockouts, one-time codes and the announcement
    # of revocations; a per-process cache would let each worker count and forget on its own.
    raise ImproperlyConfigured(
        "REDIS_URL must point at the Redis that all workers share (e.g. redis://host:6379/0)."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(env_str("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [OIDC_ISSUER.rstrip("/")]

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
