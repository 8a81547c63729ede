"""A request budget per client, told to the client in ``RateLimit`` headers
(draft-ietf-httpapi-ratelimit-headers) and enforced with 429 + ``Retry-After``.

Counted in the shared cache (Redis in production), so every worker draws on one budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from rest_framework import exceptions

from accounts.throttle import Limit

POLICY = "per-client"


@dataclass(frozen=True)
class Budget:
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": f'"{POLICY}";q={self.limit};w={management_limit().seconds}',
            "RateLimit": f'"{POLICY}";r={self.remaining};t={self.reset}',
        }


def management_limit() -> Limit:
    return Limit("management-api", settings.MANAGEMENT_API_RATE_LIMIT, 60)


class RateLimited(exceptions.Throttled):
    """429 with Retry-After (DRF sets it from ``wait``) and the budget's headers."""

    def __init__(self, budget: Budget) -> None:
        super().__init__(wait=budget.reset, detail="Too many requests for this client: wait, then retry.")
        self.budget = budget


def budget_take(client_id: str) -> Budget | None:
    """Spend one request of ``client_id``'s budget; RateLimited when it is spent (None: no limit)."""
    limit = management_limit()
    if limit.requests <= 0:
        return None
    count, reset = limit.consume(client_id)
    budget = Budget(limit=limit.requests, remaining=max(limit.requests - count, 0), reset=reset)
    if count > limit.requests:
        raise RateLimited(budget)
    return budget
