"""A person withdrawing a consent they gave (the consent goes, and so does that application's
access on their behalf), or signing out of one application (its refresh tokens end)."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction

from accounts.models import User
from clients.models import Client

from .models import Consent
from .selectors import user_client_grant_ids, user_refresh_tokens
from .services import consent_revoke, grant_revoke, refresh_token_revoke


def _refresh_grants_end(*, actor: User, user: User, client: Client) -> tuple[int, set[UUID]]:
    """End each live refresh-token grant ``client`` holds for ``user``: how many, and their
    families."""
    families: set[UUID] = set()
    ended = 0
    for token in user_refresh_tokens(user):
        # With rotation one live token stands for its whole family: end each family once.
        if token.application_id != client.pk or token.token_family in families:
            continue
        refresh_token_revoke(actor=actor, token=token)
        ended += 1
        if token.token_family:
            families.add(token.token_family)
    return ended, families


@transaction.atomic
def app_sign_out(*, actor: User, client: Client) -> int:
    """Sign the person ``actor`` out of ``client``: every refresh token it holds for them
    ends (with its access tokens), so the app must sign them in again. The consent stays."""
    return _refresh_grants_end(actor=actor, user=actor, client=client)[0]


@transaction.atomic
def consent_withdraw(*, actor: User, consent: Consent) -> int:
    """Revoke ``consent`` and end every live grant its application holds for its person;
    returns how many grants ended.

    As Auth0's and Keycloak's "revoke access": the application's refresh tokens and access
    tokens for this person stop working now, not when they expire, and its next sign-in
    asks for consent again. A grant does not record which of the person's consents to the
    application allowed it, so all of the application's grants for them end; other
    applications and other people keep theirs. Each ended grant is audited with ``actor``.

    The grants end before the consent is deleted: if ending one fails, the consent stays
    and the person can try again (a consent deleted first would leave nothing to click).
    """
    user, client = consent.user, consent.client
    ended, families = _refresh_grants_end(actor=actor, user=user, client=client)
    for grant_id in user_client_grant_ids(user, client) - families:
        grant_revoke(
            grant_id=grant_id,
            actor=actor,
            action="grant.revoke",
            target=user,
            before={"client": client.client_id},
        )
        ended += 1
    consent_revoke(actor=actor, consent=consent)
    return ended
