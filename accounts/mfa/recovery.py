"""Recovery codes: ten single-use codes for when the authenticator app or passkey is lost.

Shown once, when made; kept only as HMAC-SHA256 with a key derived from ``SECRET_KEY``
(``salted_hmac``) over the person's id and the code, so a copy of the database does not
reveal them and a code of one person is nothing for another. Codes made under a retired
key (``SECRET_KEY_FALLBACKS``) still work until they are regenerated.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ..audit import audit_record
from ..emails import email_send
from ..models import User
from .models import RecoveryCode

CODE_COUNT = 10
# Lower-case base32 letters and digits without those read as one another (0/o, 1/l/i).
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
HALF = 5
SALT = "accounts.mfa.recovery.code"


def recovery_code_normalise(code: str) -> str:
    """What was typed, as it is hashed: lower case, without spaces and dashes."""
    return "".join(code.split()).replace("-", "").lower()


def _hash(user: User, code: str, secret: str | bytes | None = None) -> str:
    return salted_hmac(SALT, f"{user.pk}:{code}", secret=secret, algorithm="sha256").hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(2 * HALF))
    return f"{raw[:HALF]}-{raw[HALF:]}"


@transaction.atomic
def recovery_codes_generate(*, actor: User, user: User) -> list[str]:
    """Ten new codes for ``user``, replacing all their earlier ones (audited
    ``mfa.recovery.regenerate``). The plain codes are returned once, to be shown once."""
    codes: set[str] = set()
    while len(codes) < CODE_COUNT:
        codes.add(_new_code())
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_hash(user, recovery_code_normalise(code))) for code in codes
    )
    audit_record(actor=actor, action="mfa.recovery.regenerate", target=user, after={"count": CODE_COUNT})
    return sorted(codes)


def recovery_codes_remaining(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@transaction.atomic
def recovery_code_use(*, user: User, code: str) -> int | None:
    """Spend ``code`` of ``user``: None when it is not one of their unused codes, else how
    many unused ones remain. Audited ``mfa.recovery.use``; the person is emailed."""
    typed = recovery_code_normalise(code)
    if len(typed) != 2 * HALF or not set(typed) <= set(ALPHABET):
        return None
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    hashes = [_hash(user, typed, key) for key in keys]
    match = RecoveryCode.objects.filter(user=user, code_hash__in=hashes, used_at__isnull=True).first()
    # The update is the check: of two requests with the same code, one changes the row.
    if match is None or not RecoveryCode.objects.filter(pk=match.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    ):
        return None
    remaining = recovery_codes_remaining(user)
    audit_record(actor=user, action="mfa.recovery.use", target=user, after={"remaining": remaining})
    email_send(
        to=user.email,
        subject="A recovery code was used to sign in",
        template="mfa_recovery_code_used",
        context={"person": user, "remaining": remaining},
    )
    return remaining
