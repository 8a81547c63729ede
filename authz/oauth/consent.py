"""When a person must be asked before an application gets a token."""

from __future__ import annotations

from collections.abc import Iterable

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
