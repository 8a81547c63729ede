"""Fixed-window rate limits on the cache (Redis in production, shared by every process).

Two kinds: a generous ceiling for all requests from one address, and a strict one for
failures (wrong client secrets, wrong passwords), counted per address and per account, so
that guessing is throttled before the deliberately slow secret checks saturate the workers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from .checksums import token_checksum


@dataclass(frozen=True)
class Limit:
    name: str
    requests: int
    seconds: int

    def _key(self, subject: str) -> tuple[str, int]:
        window = int(time.time() // self.seconds)
        # The subject comes from the request (a client id, an address): hashed, it cannot
        # make an overlong or malformed cache key.
        digest = token_checksum(subject)[:32]
        return f"throttle:{self.name}:{digest}:{window}", self.seconds - int(time.time() % self.seconds)

    def exceeded(self, subject: str) -> int | None:
        """Seconds until the window ends if ``subject`` is over the limit, else None."""
        if self.requests <= 0:
            return None
        key, remaining = self._key(subject)
        return remaining if (cache.get(key) or 0) >= self.requests else None

    def hit(self, subject: str) -> None:
        if self.requests <= 0:
            return
        key, remaining = self._key(subject)
        if not cache.add(key, 1, remaining + 1):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, remaining + 1)


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def per_address() -> Limit:
    return Limit("address", settings.RATE_LIMIT_PER_IP, 60)


def too_many(retry_after: int, response: HttpResponse) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(retry_after)
    return response
