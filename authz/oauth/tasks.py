"""The periodic clean-up of what the protocol leaves behind."""

from __future__ import annotations

from celery import shared_task
from oauth2_provider.models import clear_expired

from apis.keys import signing_keys_purge


@shared_task
def clear_expired_tokens() -> None:
    """Delete expired tokens and grants (django-oauth-toolkit's cleartokens), and retired
    signing keys that signed nothing still valid."""
    clear_expired()
    signing_keys_purge()
