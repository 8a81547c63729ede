"""Settings shared by every environment.

Everything configurable comes from environment variables. The defaults here are the safe,
production ones (``DEBUG`` off, no secret key); ``dev`` and ``test`` relax what they must.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url

from .email_url import email_url_settings
from .env import env_bool, env_list, env_str
from .operations import *  # noqa: F403  (health, metrics, logs, key rotation)
from .rest import *  # noqa: F403  (Django REST framework, drf-spectacular)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Untracked runtime state of a development checkout: SQLite file, generated secret key.
VAR_DIR = BASE_DIR / "var"

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "axes",
    "template_partials",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "apis",
    "clients",
    "authz",
    "timesheets",
]

MIDDLEWARE = [
    "accounts.health_middleware.HealthMiddleware",  # probes by address over HTTP: answered before all
    # The request id and the request's log line, around everything else (accounts.request_log).
    "accounts.request_log.RequestLogMiddleware",
    # /metrics before the https redirect and the Host check (Prometheus scrapes by address);
    # it also times every request below it (accounts.metrics_http).
    "accounts.metrics_http.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.csp.CSPMiddleware",
    "accounts.audit.AuditContextMiddleware",
    # Last, as django-axes requires: it turns a lockout into our lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.site_nav",
                "accounts.context_processors.dashboard_nav",
            ],
        },
    },
]

# --- Data stores ---------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env_str("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (gunicorn workers, a Celery worker) share the file: writers take
    # the lock when their transaction starts and wait for it instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database host that does not answer fails a request (and /health/ready) in seconds,
    # not after the operating system's TCP timeout of minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(env_str("DB_CONNECT_TIMEOUT", "5"))
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "abc-identity"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# How long a process trusts the revocation answers it read from the database (apis.revocation).
# With Redis every revocation is announced to every process at once and this is only a safety
# net; without it, this is the delay before another process refuses a revoked token.
REVOCATION_CACHE_SECONDS = float(env_str("REVOCATION_CACHE_SECONDS", "60" if REDIS_URL else "1"))

# Without Redis a process's copy of a client, an API, a grant or a person's permissions is
# trusted this long after another process changed it (accounts.versions); with Redis a change
# reaches every process at once.
SHARED_VERSION_LOCAL_SECONDS = float(env_str("SHARED_VERSION_LOCAL_SECONDS", "1"))

# Without a broker, tasks run in the caller's process: the embedded default needs no worker.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "abc-identity")
CELERY_BEAT_SCHEDULE = {
    "clear-expired-tokens": {"task": "authz.oauth.tasks.clear_expired_tokens", "schedule": 3600.0},
    "signing-keys-rotate-due": {
        "task": "apis.tasks.signing_keys_rotate_due_task",
        "schedule": SIGNING_KEY_ROTATION_CHECK_SECONDS,  # noqa: F405  (operations)
    },
}

# --- Email -----------------------------------------------------------------------------------
# The console backend unless told otherwise: ``make run`` prints messages in its terminal.
# Production names its SMTP server with EMAIL_URL (smtp://user:password@host:587?tls=1, or
# smtps://... for implicit TLS), or with Django's own EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER,
# EMAIL_HOST_PASSWORD, EMAIL_USE_TLS / EMAIL_USE_SSL variables.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_str("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
if _email_url := env_str("EMAIL_URL"):
    globals().update(email_url_settings(_email_url))
# A mail server that does not answer must not hold a Celery worker for ever (retries follow).
EMAIL_TIMEOUT = int(env_str("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "timesheets@abcinc.example")
# The name people see in emails.
PRODUCT_NAME = env_str("PRODUCT_NAME", "ABC Inc. Identity")
# Links in emails, in seconds: a password-reset link and an invitation are single-use
# (setting the password spends them); verification links expire only.
PASSWORD_RESET_TIMEOUT = int(env_str("PASSWORD_RESET_TIMEOUT", str(60 * 60)))
INVITATION_TIMEOUT = int(env_str("INVITATION_TIMEOUT", str(72 * 60 * 60)))
EMAIL_VERIFICATION_TIMEOUT = int(env_str("EMAIL_VERIFICATION_TIMEOUT", str(72 * 60 * 60)))
# "Forgot password?": requests per address and per email address per hour.
PASSWORD_RESET_PER_ADDRESS = int(env_str("PASSWORD_RESET_PER_ADDRESS", "20"))
PASSWORD_RESET_PER_EMAIL = int(env_str("PASSWORD_RESET_PER_EMAIL", "3"))

# --- Accounts and sessions ----------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "timesheets:week"
LOGOUT_REDIRECT_URL = "accounts:login"

# People's passwords: Django's slow default. The last one verifies client secrets only
# (see clients.hashers and OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"]).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "clients.hashers.ClientSecretHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60

# Multi-factor sign-in (accounts.mfa): who must use a second factor, a dotted path to
# ``(user) -> bool`` (accounts.mfa.policy). Passkeys belong to the issuer's host and origin.
MFA_POLICY = "authz.mfa.mfa_required"
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "ABC Identity")  # the name authenticator apps show
OTP_TOTP_THROTTLE_FACTOR = 1  # django-otp: a growing pause after each wrong code

# --- Security headers (tightened further in prod) ------------------------------------------

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# No URL of ours (an authorization request, its state) is ever sent to another site.
# Not "no-referrer": browsers then send "Origin: null" with the sign-in and consent forms,
# which CSRF protection must refuse.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Self only, no inline script or style, no eval: every page's JavaScript is htmx, served
# from our static files. (No form-action: after consent the browser must follow the
# redirect to the application's own callback, whatever its scheme.)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "https:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Brute force: lockout (django-axes) and rate limits (accounts.throttle) ----------------

# Proxies whose X-Forwarded-For is believed (addresses or CIDRs, comma-separated). None by
# default: the header is then ignored, or anyone could pick the address they are counted as.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
AXES_FAILURE_LIMIT = int(env_str("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env_str("LOGIN_LOCKOUT_MINUTES", "15")) / 60  # hours
# Lock an account after repeated failures from anywhere (the account + address row is what
# the lockouts page shows and a success clears). Never an address alone: behind a proxy or
# an office NAT that would let one person lock out everyone; an address has its own, much
# higher failure limit below (LOGIN_ADDRESS_FAILURE_LIMIT, answered 429).
AXES_LOCKOUT_PARAMETERS = [["username"], ["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Django's sign-in form posts the email as "username" (axes would look for USERNAME_FIELD).
AXES_USERNAME_FORM_FIELD = "username"
# Counted under the spelling sign-in matches (case, NFKC, spaces), non-emails redacted.
AXES_USERNAME_CALLABLE = "accounts.identifiers.axes_username"
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_VERBOSE = False
LOGIN_ADDRESS_FAILURE_LIMIT = int(env_str("LOGIN_ADDRESS_FAILURE_LIMIT", "50"))
LOGIN_ADDRESS_FAILURE_SECONDS = int(AXES_COOLOFF_TIME * 3600)
# Requests per minute from one address to /oauth/token, /oauth/revoke, /oauth/introspect
# and /login/ (0 turns a limit off), and failed client authentications per minute per
# client id and per address.
RATE_LIMIT_PER_IP = int(env_str("RATE_LIMIT_PER_IP", "600"))
RATE_LIMIT_CLIENT_FAILURES = int(env_str("RATE_LIMIT_CLIENT_FAILURES", "10"))
# Requests per minute that one machine client may make to the Management API (0: no limit).
MANAGEMENT_API_RATE_LIMIT = int(env_str("MANAGEMENT_API_RATE_LIMIT", "300"))

# Whether an application's jwks_uri (private_key_jwt) may be http to this machine or resolve to
# a private address. Off in production: the server would fetch whatever address a client names
# (SSRF). The tests turn it on to serve keys from a local HTTP server.
JWKS_URI_ALLOW_PRIVATE = env_bool("JWKS_URI_ALLOW_PRIVATE", False)

# DPoP proofs (RFC 9449, apis.dpop): how far in the past and the future a proof's iat may be
# (its jti is remembered in the shared cache for that long), and server nonces: required of
# every proof or not, and how long one lasts (a nonce is good for one to two such windows).
DPOP_IAT_PAST_SECONDS = int(env_str("DPOP_IAT_PAST_SECONDS", "60"))
DPOP_IAT_FUTURE_SECONDS = int(env_str("DPOP_IAT_FUTURE_SECONDS", "5"))
DPOP_NONCE_REQUIRED = env_bool("DPOP_NONCE_REQUIRED", False)
DPOP_NONCE_SECONDS = int(env_str("DPOP_NONCE_SECONDS", "300"))

# --- Internationalisation, static files ----------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- OAuth 2.0 / OpenID Connect (django-oauth-toolkit) -------------------------------------

# The issuer is fixed by configuration, never derived from the Host header: it must equal
# `iss` in every token and authorization response, byte for byte. Empty when unset: prod.py
# refuses to start without it, dev.py and test.py set their own.
OIDC_ISSUER = env_str("OIDC_ISSUER", "")

OAUTH2_PROVIDER_APPLICATION_MODEL = "clients.Client"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 - a model name
# Values of several types (flags, numbers, lists, dotted paths): readers know which is which.
OAUTH2_PROVIDER: dict[str, Any] = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": OIDC_ISSUER,
    "OAUTH2_VALIDATOR_CLASS": "authz.oauth.validators.OAuth2Validator",
    "OAUTH2_SERVER_CLASS": "authz.oauth.server.Server",
    "OIDC_SERVER_CLASS": "authz.oauth.server.Server",
    "OAUTH2_BACKEND_CLASS": "authz.oauth.backends.OAuthLibCore",
    "SCOPES_BACKEND_CLASS": "apis.scopes.ApiScopes",
    "ACCESS_TOKEN_GENERATOR": "authz.oauth.issuance.access_token_generator",
    # Refresh tokens stay opaque random strings (oauthlib would reuse the JWT generator).
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
    "CLIENT_SECRET_HASHER": "client_sha256",
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    # private_key_jwt: RFC 7523 client assertions (authz.oauth.client_assertion); never
    # client_secret_jwt.
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    ],
    "PKCE_REQUIRED": True,  # refined per client by the validator: public clients must use it
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    # Tokens for an API live as long as that API says; this is for /userinfo-only tokens.
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ROTATE_REFRESH_TOKEN": True,
    # Per client, the schemes of its registered callbacks decide (see clients.models).
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "OIDC_JWKS_MAX_AGE_SECONDS": 3600,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# Token rules, in their default order; each can be switched off in the dashboard.
AUTHZ_RULES = [
    "authz.rules.deny_deactivated_users",
    "authz.rules.add_roles_and_groups",
]
# Claims that rules add live under this URL, so they never clash with standard claims.
AUTHZ_CLAIM_NAMESPACE = env_str("AUTHZ_CLAIM_NAMESPACE", "https://abcinc.example/")
# How old a process's in-memory token counts and events get before it writes them (issuance_counts, events).
TOKEN_STATS_FLUSH_SECONDS = float(env_str("TOKEN_STATS_FLUSH_SECONDS", "5"))
LOG_RETENTION_DAYS = int(env_str("LOG_RETENTION_DAYS", "90"))  # days the logs keep an entry (0: all)
# The Timesheets API is the resource server of this project: the audience its views accept.
TIMESHEETS_API_AUDIENCE = env_str("TIMESHEETS_API_AUDIENCE", "https://timesheets.abcinc.example/api")

# Benchmark only, never in production: mounts GET /bench/timesheets?person=<email>, the
# timesheet list of that person WITHOUT authentication, so `make bench` can measure what the
# bearer token costs. Off unless BENCH_BASELINE_VIEWS is set; no route exists while it is off.
BENCH_BASELINE_VIEWS = env_bool("BENCH_BASELINE_VIEWS", False)

# Request bodies: Django's 2.5 MB everywhere (answered 413 in JSON on the APIs and the
# protocol endpoints); the bulk upload alone reads up to BULK_UPLOAD_MAX_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
BULK_UPLOAD_MAX_BYTES = int(env_str("BULK_UPLOAD_MAX_BYTES", str(32 * 1024 * 1024)))
