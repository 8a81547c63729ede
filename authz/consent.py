"""When a person must be asked before an application gets a token."""

from __future__ import annotations

from apis.models import Api
from clients.models import Client


def consent_skippable(client: Client, api: Api | None) -> bool:
    """First-party applications skip consent, unless the API they call insists on it."""
    return client.first_party and (api is None or api.allow_skip_consent)
