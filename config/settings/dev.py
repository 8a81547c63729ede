"""Development: DEBUG on, loopback hosts, a secret key generated once into ``var/``."""

from __future__ import annotations

import secrets

from .base import *  # noqa: F403
from .base import LOG_LEVEL, OAUTH2_PROVIDER, VAR_DIR, logging_config
from .env import env_list, env_str

DEBUG = True
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])


def _dev_secret_key() -> str:
    """Read the checkout's secret key, creating it on first use (never committed)."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY") or _dev_secret_key()

OIDC_ISSUER = env_str("OIDC_ISSUER", f"http://127.0.0.1:{env_str('PORT', '8000')}")
OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"] = OIDC_ISSUER
# Browsers refuse passkeys on an IP address: they belong to http://localhost:<port>, the same
# server under the name every browser treats as a secure context.
WEBAUTHN_ORIGIN = env_str("WEBAUTHN_ORIGIN", f"http://localhost:{env_str('PORT', '8000')}")
# Local callbacks (http://127.0.0.1/...) are normal during development.
WHITENOISE_USE_FINDERS = True

# Lines a person reads in the terminal of ``make run``; LOG_FORMAT=json shows production's.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)
# `curl http://127.0.0.1:$PORT/metrics` from this machine works without a token.
METRICS_ALLOWED_ADDRESSES = env_list("METRICS_ALLOWED_ADDRESSES", ["127.0.0.1", "::1"])
