"""The APIs' exception handler: Django's refusals of a request body, in DRF's JSON format,
and the ``DPoP-Nonce`` of a DPoP refusal (apis.authentication)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .parsers import too_large


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, also answering what Django raises on reading a body it will not take
    (413 for one over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, 400 for too many form fields or files),
    which would otherwise reach the client as Django's HTML 400 page."""
    if isinstance(exc, RequestDataTooBig):
        exc = too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        exc = exceptions.ParseError("The request has too many fields.")
    response = drf_exception_handler(exc, context)
    nonce = getattr(exc, "dpop_nonce", None)
    if response is not None and nonce:
        # RFC 9449 §9: the nonce a use_dpop_nonce refusal asks the client to use.
        response["DPoP-Nonce"] = nonce
    return response
