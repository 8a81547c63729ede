"""The periodic clean-up of what the protocol leaves behind."""

from __future__ import annotations

from celery import shared_task
from oauth2_provider.models import clear_expired

from apis.keys import signing_keys_purge
from apis.revocation import revocations_purge

from .families import grant_families_purge
from .redemption import redeemed_codes_purge


@shared_task
def clear_expired_tokens() -> None:
    """Delete refresh-token families past their absolute lifetime (their start and their
    tokens), expired tokens and grants (django-oauth-toolkit's cleartokens), and retired
    signing keys that signed nothing still valid, revocations no live token can need, and
    redeemed codes past any replay."""
    grant_families_purge()
    clear_expired()
    signing_keys_purge()
    revocations_purge()
    redeemed_codes_purge()
