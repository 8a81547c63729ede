"""The test suite: fast hashing, eager Celery, a fixed issuer. Databases come from the env."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import LOG_LEVEL, OAUTH2_PROVIDER, REDIS_URL, logging_config
from .env import env_str

SECRET_KEY = "test-only-not-secret"  # noqa: S105 - the test settings are never deployed
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

OIDC_ISSUER = "http://testserver"
OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"] = OIDC_ISSUER
# oauthlib's server is built once per process; tests that change settings need a new one.
OAUTH2_PROVIDER["ALWAYS_RELOAD_OAUTHLIB_CORE"] = True

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "clients.hashers.ClientSecretHasher"]

# Tests always run tasks in-process, even when REDIS_URL points the cache at Redis.
CELERY_TASK_ALWAYS_EAGER = True
if REDIS_URL:
    import os

    # A test run's own key space; server processes that a test starts are handed it, to
    # share the cache with the test as production workers share theirs.
    CACHES["default"]["KEY_PREFIX"] = os.environ.get(  # noqa: F405
        "TEST_CACHE_KEY_PREFIX", f"abc-identity-test-{os.getpid()}"
    )
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# A test's tokens reach the daily stats after its own request, never at interpreter exit,
# when the test database is gone.
TOKEN_STATS_FLUSH_SECONDS = 0.0
# A failing test's captured output reads as text (tests/operations check the JSON lines).
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)
