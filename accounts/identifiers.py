"""What a person types to sign in, normalised once: for the user lookup, the lockout and the audit log.

Sign-in matches an email whatever its case, compatibility form or surrounding spaces, so
everything that counts failures per account must see the same spelling, or each spelling
would get its own five guesses. What is typed into the email field may also be a password
typed in the wrong box: it is recorded only when it is a syntactically valid email.
"""

from __future__ import annotations

import hmac
import unicodedata
from hashlib import sha256
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.http import HttpRequest

# AccessAttempt.username and User.email hold at most 254/255 characters.
IDENTIFIER_MAX = 254
REDACTED_PREFIX = "redacted-non-email:"

_is_email = EmailValidator()


def login_identifier(raw: str | None) -> str:
    """The account key of what was typed: NFKC, without surrounding spaces, lower-cased.

    Emails are stored this way (``UserManager``), and the user lookup compares this form.
    """
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


def is_login_email(identifier: str) -> bool:
    if not identifier or len(identifier) > IDENTIFIER_MAX:
        return False
    try:
        _is_email(identifier)
    except ValidationError:
        return False
    return True


def recorded_identifier(raw: str | None) -> str:
    """What the lockout counters and the audit log store for a sign-in attempt.

    A valid email, normalised; anything else becomes a marker with a short keyed digest, so
    that failures with one mistyped value still count together without revealing it (an
    unkeyed hash of a password would be guessable offline).
    """
    identifier = login_identifier(raw)
    if is_login_email(identifier):
        return identifier
    digest = hmac.new(str(settings.SECRET_KEY).encode(), identifier.encode(), sha256).hexdigest()[:12]
    return f"{REDACTED_PREFIX}{digest}"


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None = None) -> str:
    """django-axes' ``AXES_USERNAME_CALLABLE``: the key it counts failures under."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials and credentials.get(field) is not None:
        raw = credentials[field]
    else:
        raw = request.POST.get(field) if request is not None else None
    return recorded_identifier(str(raw) if raw is not None else None)
