"""When a person must be asked before an application gets a token."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.audit import audit_record
from accounts.models import User
from apis.models import Api
from authz.models import Consent
from clients.models import Client


def consent_skippable(client: Client, api: Api | None) -> bool:
    """First-party applications skip consent, unless the API they call insists on it."""
    return client.first_party and (api is None or api.allow_skip_consent)


def consent_given(*, user: User, client: Client, audience: str, scopes: Iterable[str]) -> bool:
    """Whether ``user`` already allowed ``client`` all of ``scopes`` for ``audience``."""
    wanted = set(scopes)
    return any(
        wanted <= consent.scope_set
        for consent in Consent.objects.filter(user=user, client=client, audience=audience)
    )


def consent_answered(*, user: User, client_id: str, audience: str, scopes: str, allowed: bool) -> None:
    """Log the person's answer on the consent screen (``consent.grant`` or ``consent.deny``)."""
    audit_record(
        actor=user,
        action="consent.grant" if allowed else "consent.deny",
        target=user,
        after={"client": client_id, "audience": audience, "scopes": scopes},
        client_id=client_id,
        audience=audience,
    )
