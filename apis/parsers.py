"""How the APIs read a request body: under a size limit per view, JSON without server errors.

DRF's own JSONParser lets a deeply nested body through as a ``RecursionError`` (a 500),
and reads any body through ``request.body``, whose only limit is Django's site-wide
``DATA_UPLOAD_MAX_MEMORY_SIZE``. This parser reads the raw stream itself, at most
``max_bytes()`` of it (the site-wide limit unless a view's parser says otherwise), and
answers what it cannot take as DRF errors: 413 ``{"detail": ...}`` for a body that is too
large, 400 for one that is not JSON we accept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, renderers, status
from rest_framework.parsers import BaseParser

from accounts.json_input import JsonInputError, json_parse


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than {max_bytes:,} bytes.")


def body_read(stream: IO[bytes], parser_context: Mapping[str, Any] | None, *, max_bytes: int | None) -> bytes:
    """The raw body, or PayloadTooLarge when it is larger than ``max_bytes`` (None: no limit).

    A declared ``Content-Length`` over the limit is refused before anything is read; an
    understated one cannot make it read more than ``max_bytes`` + 1.
    """
    if max_bytes is None:
        return stream.read()
    request = (parser_context or {}).get("request")
    meta = request.META if request is not None else {}
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        raise too_large(max_bytes)
    body = stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise too_large(max_bytes)
    return body


def body_encoding(parser_context: Mapping[str, Any] | None) -> str:
    """The charset the request names, if it is a text encoding (not, say, ``bz2_codec``,
    which would inflate the body after its size was checked)."""
    encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
    try:
        "".encode(encoding)
    except (LookupError, UnicodeError) as error:
        raise exceptions.ParseError(
            f"Unsupported charset {encoding!r} in the Content-Type header."
        ) from error
    return encoding


class JSONParser(BaseParser):
    """``application/json`` bodies of at most ``max_bytes()``; nesting deeper than 32 levels,
    integers longer than 4,300 digits and ``NaN`` are 400 parse errors."""

    media_type = "application/json"
    renderer_class = renderers.JSONRenderer

    def max_bytes(self) -> int | None:
        """The largest body this parser reads: Django's limit for request bodies."""
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = body_encoding(parser_context)
        body = body_read(stream, parser_context, max_bytes=self.max_bytes())
        try:
            return json_parse(body.decode(encoding))
        except UnicodeDecodeError as error:
            raise exceptions.ParseError(f"JSON parse error - the body is not {encoding} text.") from error
        except JsonInputError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}.") from error
