"""The protocol's background work: the periodic clean-up of what it leaves behind, and
back-channel logout deliveries."""

from __future__ import annotations

from celery import Task, shared_task
from oauth2_provider.models import clear_expired

from accounts.logs import log_entries_purge
from accounts.mfa.totp import totp_unconfirmed_clean
from apis.keys import signing_keys_purge
from apis.rest.idempotency import idempotency_keys_forget
from apis.revocation import revocations_purge
from clients.models import Client

from .backchannel import DeliveryFailed, backchannel_logout_send
from .device import device_grants_purge
from .families import grant_families_purge
from .par import pushed_requests_purge
from .redemption import redeemed_codes_purge

BACKCHANNEL_RETRIES = 4
BACKCHANNEL_BACKOFF_SECONDS = 30


@shared_task
def clear_expired_tokens() -> None:
    """Delete refresh-token families past their absolute lifetime (their start and their
    tokens), expired tokens and grants (django-oauth-toolkit's cleartokens), and retired
    signing keys that signed nothing still valid, revocations no live token can need,
    redeemed codes past any replay, Management API idempotency keys older than a day, log
    entries older than LOG_RETENTION_DAYS, authenticator apps whose set-up was left
    unconfirmed, pushed authorization requests past their use, and device requests (RFC 8628)
    an hour past their expiry."""
    grant_families_purge()
    clear_expired()
    signing_keys_purge()
    revocations_purge()
    redeemed_codes_purge()
    idempotency_keys_forget()
    log_entries_purge()
    totp_unconfirmed_clean()
    pushed_requests_purge()
    device_grants_purge()


@shared_task(bind=True, max_retries=BACKCHANNEL_RETRIES)
def backchannel_logout_deliver(self: Task, client_pk: int, sub: str, sid: str | None) -> None:
    """Send one application its logout token; retried with backoff while it cannot be
    reached, given up (each attempt audited) after the last retry or when it refuses."""
    client = Client.objects.filter(pk=client_pk).exclude(backchannel_logout_uri="").first()
    if client is None:
        return
    try:
        backchannel_logout_send(client=client, sub=sub, sid=sid, attempt=self.request.retries + 1)
    except DeliveryFailed as error:
        if error.retry and self.request.retries < BACKCHANNEL_RETRIES:
            raise self.retry(
                exc=error, countdown=BACKCHANNEL_BACKOFF_SECONDS * 2**self.request.retries
            ) from error
