"""``Idempotency-Key`` on creates: the same client, key and body get the first answer again.

A client that timed out can retry a create without making a second object. The key is
recorded in the create's own transaction, first, so that a concurrent request with the same
key waits on the unique index until the first commits, then replays its answer; a create
that fails leaves no key behind, and the client may retry it. Keys are kept for a day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import IdempotentRequest

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used for a different request: use a new key for a new request."
    default_code = "idempotency_key_reused"


def _key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise exceptions.ValidationError({HEADER: [f"Up to {MAX_KEY_LENGTH} printable ASCII characters."]})
    return key


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotentRequest, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise KeyReused()
    headers = {"Idempotent-Replayed": "true"}
    if record.location:
        headers["Location"] = record.location
    return Response(record.body, status=record.status, headers=headers)


def idempotent_create(
    request: Request, *, client_id: str, create: Callable[[], Response], redact: Collection[str] = ()
) -> Response:
    """Run ``create`` once per ``Idempotency-Key`` of ``client_id``; without the header, just run it.

    ``redact`` names fields of the answer that are shown once and never stored (a client
    secret): a replay answers them as null.
    """
    key = _key(request)
    if key is None:
        return create()
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        IdempotentRequest.objects.filter(
            client_id=client_id, key=key, created_at__lt=timezone.now() - KEPT_FOR
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    client_id=client_id, key=key, fingerprint=fingerprint, status=0, body={}
                )
        except IntegrityError:
            return _replay(IdempotentRequest.objects.get(client_id=client_id, key=key), fingerprint)
        response = create()
        if response.status_code >= 400:
            transaction.set_rollback(True)
            return response
        record.status = response.status_code
        record.body = _redacted(response.data, redact)
        record.location = response.get("Location", "")
        record.save(update_fields=["status", "body", "location"])
    return response


def _redacted(data: Any, fields: Collection[str]) -> Any:
    if isinstance(data, dict):
        return {name: None if name in fields else value for name, value in data.items()}
    return data


def idempotency_keys_forget() -> int:
    """Delete the keys older than a day (the clean-up task)."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=timezone.now() - KEPT_FOR).delete()
    return deleted
