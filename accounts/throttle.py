"""Fixed-window rate limits on the cache (Redis in production, shared by every process),
and the one place that says which address a request comes from.

Two kinds: a generous ceiling for all requests from one address, and a strict one for
failures (wrong client secrets, wrong passwords), counted per address and per account, so
that guessing is throttled before the deliberately slow secret checks saturate the workers.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from .checksums import token_checksum
from .versions import Counter


@dataclass(frozen=True)
class Limit:
    name: str
    requests: int
    seconds: int

    @staticmethod
    def now() -> float:
        """The clock the fixed windows are cut from (the wall clock, shared by every process)."""
        return time.time()

    def window(self) -> int:
        """The number of the window that is counting now."""
        return int(self.now() // self.seconds)

    def _key(self, subject: str) -> tuple[str, int]:
        # The subject comes from the request (a client id, an address): hashed, it cannot
        # make an overlong or malformed cache key.
        digest = token_checksum(subject)[:32]
        remaining = self.seconds - int(self.now() % self.seconds)
        return f"throttle:{self.name}:{digest}:{self.window()}", remaining

    def counter(self, subject: str, *, incr: bool) -> Counter | None:
        """This limit's count for ``subject``, to read (or increment) in a ``round_trip``
        with other counters; None when the limit is off."""
        if self.requests <= 0:
            return None
        key, remaining = self._key(subject)
        return Counter(key, remaining, incr=incr)

    def over(self, counter: Counter | None, count: int) -> int | None:
        """Seconds until the window ends if ``count`` (read or just incremented through
        ``counter``) is over the limit, else None."""
        if counter is None:
            return None
        limit_reached = count > self.requests if counter.incr else count >= self.requests
        return counter.seconds_left if limit_reached else None

    def exceeded(self, subject: str) -> int | None:
        """Seconds until the window ends if ``subject`` is over the limit, else None."""
        if self.requests <= 0:
            return None
        key, remaining = self._key(subject)
        return remaining if (cache.get(key) or 0) >= self.requests else None

    def hit(self, subject: str) -> None:
        self.take(subject)

    def take(self, subject: str) -> int | None:
        """Count one more for ``subject``; seconds until the window ends if that one is over
        the limit, else None. One atomic increment: requests in flight at the same time
        cannot all see the count below the limit."""
        if self.requests <= 0:
            return None
        count, remaining = self.consume(subject)
        return remaining if count > self.requests else None

    def consume(self, subject: str) -> tuple[int, int]:
        """Count one more for ``subject`` (one atomic increment); the count so far in this
        window and the seconds until it ends, for callers that tell clients what is left."""
        key, remaining = self._key(subject)
        if cache.add(key, 1, remaining + 1):
            return 1, remaining
        try:
            return cache.incr(key), remaining
        except ValueError:  # expired between add and incr
            cache.add(key, 1, remaining + 1)
            return 1, remaining

    def forget(self, subject: str) -> None:
        cache.delete(self._key(subject)[0])


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """``entries`` (addresses or CIDRs, from a setting) as networks; ValueError names a bad one."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def check_networks(setting: str) -> None:
    """Refuse to start when the list ``setting`` holds an entry that is not an address or a network."""
    try:
        networks(tuple(getattr(settings, setting)))
    except ValueError as error:
        raise ImproperlyConfigured(f"{setting}: {error}") from error


def check_trusted_proxies() -> None:
    check_networks("TRUSTED_PROXIES")


def address_in(address: str, within: tuple[IPNetwork, ...]) -> bool:
    """Whether ``address`` is in one of the networks ``within``. An IPv4 peer of a dual-stack
    socket arrives as ``::ffff:a.b.c.d`` and counts as its IPv4 address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = parsed.ipv4_mapped if isinstance(parsed, ipaddress.IPv6Address) else None
    return any(parsed in network or (mapped is not None and mapped in network) for network in within)


def client_address(request: HttpRequest) -> str:
    """The address of whoever sent the request: the lockout, the rate limits and the audit log.

    ``X-Forwarded-For`` is believed only as far as ``settings.TRUSTED_PROXIES`` vouch for it:
    from the peer inwards, each trusted proxy names the hop before it; the first hop that is
    not a trusted proxy is the client. Entries further left were written by that client and
    prove nothing. With no trusted proxy configured the header is ignored entirely.
    """
    peer = request.META.get("REMOTE_ADDR") or "unknown"
    proxies = networks(tuple(settings.TRUSTED_PROXIES))
    if not proxies or not address_in(peer, proxies):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    address = peer
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            # Not an address a proxy of ours wrote: the last hop we can vouch for is the answer.
            return address
        address = hop
        if not address_in(hop, proxies):
            return hop
    return address


def client_ip(request: HttpRequest) -> str | None:
    """client_address for an IP column (the audit log, sessions, django-axes'
    ``AXES_CLIENT_IP_CALLABLE``): None when the server was not told the peer's address."""
    address = client_address(request)
    return None if address == "unknown" else address


def per_address() -> Limit:
    return Limit("address", settings.RATE_LIMIT_PER_IP, 60)


def login_attempts_per_account() -> Limit:
    """Sign-in attempts per account (the key accounts.identifiers.recorded_identifier gives),
    counted before the password check and forgotten at a success: django-axes counts a
    failure only once it is over, so parallel guesses would otherwise all get through."""
    return Limit("login-account", settings.AXES_FAILURE_LIMIT, settings.LOGIN_ADDRESS_FAILURE_SECONDS)


def login_failures_per_address() -> Limit:
    """Failed sign-ins from one address, whatever the account: far above an account's own
    lockout, so that an office behind one NAT never reaches it by honest mistakes."""
    return Limit(
        "login-failures", settings.LOGIN_ADDRESS_FAILURE_LIMIT, settings.LOGIN_ADDRESS_FAILURE_SECONDS
    )


def too_many(retry_after: int, response: HttpResponse) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(retry_after)
    return response
