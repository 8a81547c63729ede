"""Production: fails closed. Every secret and host comes from the environment."""

from __future__ import annotations

import math
from collections import Counter

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import OIDC_ISSUER, REDIS_URL, SECRET_KEY
from .env import env_bool, env_str

GENERATE_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
# What a key's own character frequencies say it holds. Generated keys measure well above:
# Django's get_random_secret_key() at least ~208 bits, secrets.token_hex(32) ~215,
# secrets.token_urlsafe(50) ~330; "a" * 50 measures 0 and "0123456789" * 5 about 166. (A
# rule on distinct characters would refuse every hex key and one Django key in seven.)
SECRET_KEY_MIN_BITS = 192


def _estimated_bits(key: str) -> float:
    """Shannon entropy of the key's characters times its length: blind to order, so it
    catches few or repeated characters, not a long typed phrase."""
    counts = Counter(key).values()
    return -sum(count * math.log2(count / len(key)) for count in counts)


if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random string of at least 50 characters: "
        f"generate one with {GENERATE_KEY}"
    )
if SECRET_KEY.startswith("django-insecure-") or _estimated_bits(SECRET_KEY) < SECRET_KEY_MIN_BITS:
    # Sessions, password-reset links and signed values are only as safe as this key.
    raise ImproperlyConfigured(
        f"SECRET_KEY is not random enough (about {_estimated_bits(SECRET_KEY):.0f} bits by its "
        f"characters; at least {SECRET_KEY_MIN_BITS} needed, and no django-insecure- key): "
        f"generate one with {GENERATE_KEY}"
    )
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
