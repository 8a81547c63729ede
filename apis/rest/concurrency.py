"""Optimistic concurrency: a representation's ``ETag``, and ``If-Match`` on writes (RFC 9110 §13.1.1).

The ETag is a digest of the JSON representation a GET answers, so any change that a
client could see changes it. A write compares it with the stored object's, read under a
row lock in the write's own transaction: two clients that read the same version cannot
both write over it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rest_framework import exceptions, status
from rest_framework.request import Request


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since you read it: read it again, then retry with its new ETag."
    default_code = "precondition_failed"


def etag_of(representation: Any) -> str:
    """A strong entity tag of a JSON representation."""
    canonical = json.dumps(representation, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def check_if_match(request: Request, current: str) -> None:
    """Refuse a write whose ``If-Match`` names none of the current ETag (412). Without the
    header the write goes through, as with Auth0's and Keycloak's APIs; ``*`` matches any."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = [tag.strip() for tag in header.split(",")]
    # Strong comparison: a weak tag (W/"...") never matches for a write.
    if "*" not in tags and current not in tags:
        raise PreconditionFailed()
