"""The conventions of our HTTP APIs beyond DRF's defaults, for the Management API first:
RFC 9457 problem details, cursor pages, ETag / If-Match, Idempotency-Key, per-client rate
limits with RateLimit headers, and serializers that refuse fields they do not know."""
