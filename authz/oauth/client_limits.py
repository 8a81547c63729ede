"""Failed client authentications at the back-channel endpoints, counted so that a stranger
cannot lock a client out (and the alert when a client fails everywhere)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from accounts.audit import audit_record
from accounts.checksums import token_checksum
from accounts.throttle import Limit
from accounts.versions import Counter
from clients.models import Client


@dataclass(frozen=True)
class ClientFailureLimits:
    """Failed client authentications, counted so that a stranger cannot lock a client out.

    A client is slowed only from the address that fails (``client_at_address``), and an
    address for all the clients it tries (``address``, three times as many); the client's
    total across addresses only raises an alert in the audit log, never a lock: a batch job
    authenticating correctly from its own address keeps working whoever guesses elsewhere.
    """

    client_at_address: Limit
    address: Limit
    client_total: Limit

    @classmethod
    def from_settings(cls) -> ClientFailureLimits:
        per_client = settings.RATE_LIMIT_CLIENT_FAILURES
        return cls(
            Limit("client-address-failures", per_client, 60),
            Limit("address-failures", 3 * per_client, 60),
            Limit("client-failures", per_client, 60),
        )

    def counters(self, client_id: str, address: str) -> tuple[Counter | None, Counter | None]:
        """The failure counts that may make a request wait, to read in one ``round_trip``
        with other counters."""
        return (
            self.client_at_address.counter(f"{client_id} {address}", incr=False),
            self.address.counter(address, incr=False),
        )

    def wait_for(self, counters: tuple[Counter | None, Counter | None], counts: list[int]) -> int | None:
        """Seconds to wait (this client at this address, or this address, failed too often),
        from the counts read through ``counters``; None to go on."""
        client_at_address, address = counters
        return self.client_at_address.over(client_at_address, counts[0]) or self.address.over(
            address, counts[1]
        )

    def failed(self, client_id: str, address: str) -> None:
        self.client_at_address.hit(f"{client_id} {address}")
        self.address.hit(address)
        self.client_total.hit(client_id)
        if self.client_total.exceeded(client_id) is not None:
            _alert_client_failures(client_id, address, self.client_total)


def _alert_client_failures(client_id: str, address: str, limit: Limit) -> None:
    """One audit entry per client and window once its failures reach the limit."""
    key = f"alert:client-failures:{token_checksum(client_id)[:32]}:{limit.window()}"
    if cache.add(key, 1, limit.seconds + 1):
        audit_record(
            actor=None,
            action="security.client_auth_failures",
            target=Client.objects.filter(client_id=client_id).first(),
            target_label=client_id[:100],
            after={"client_id": client_id[:100], "failures": limit.requests, "last_address": address},
        )
