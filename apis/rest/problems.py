"""Errors as RFC 9457 problem details (``application/problem+json``).

The body keeps RFC 6750's vocabulary where it applies: ``code`` is ``invalid_token`` or
``insufficient_scope`` beside the ``WWW-Authenticate`` challenge DRF already sets, and a
400 lists each field error with a JSON Pointer into the request body (RFC 9457 §3's own
example of an extension member).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from accounts.errors import Conflict

from ..exceptions import exception_handler

PROBLEM_JSON = "application/problem+json"


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with what is stored."
    default_code = "conflict"


class UnknownReference(exceptions.NotFound):
    """A body names an object that does not exist (a role id, a client id): 404, as Auth0 and
    Keycloak answer it, with a pointer to each name in ``field_errors``."""

    default_detail = "The request names something that does not exist."
    default_code = "not_found"

    def __init__(self, field_errors: dict[str, Any]) -> None:
        named = "; ".join(f"{error['pointer'][2:]}: {error['detail']}" for error in _pointers(field_errors))
        super().__init__(f"The request names something that does not exist: {named}")
        self.field_errors = field_errors


def _from_django(exc: Exception) -> Exception:
    """What our services raise, in DRF's terms: a Conflict is 409, other refusals of input 400."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        if isinstance(exc, Conflict) or _is_unique_violation(exc):
            # The service's own code (protected, own_access, unique) says which invariant.
            code = getattr(exc, "code", None) or ("unique" if _is_unique_violation(exc) else "conflict")
            conflict = ConflictError(" ".join(exc.messages), code=code)
            conflict.field_errors = detail  # type: ignore[attr-defined]
            return conflict
        return exceptions.ValidationError(detail)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    # An id beyond any database integer (SQLite raises OverflowError) names no object either.
    if isinstance(exc, ObjectDoesNotExist | Http404 | OverflowError):
        return exceptions.NotFound()
    return exc


def _is_unique_violation(exc: DjangoValidationError) -> bool:
    errors = exc.error_dict.values() if hasattr(exc, "error_dict") else [exc.error_list]
    return any(error.code in {"unique", "unique_together"} for group in errors for error in group)


def _pointers(data: Any, path: str = "") -> list[dict[str, str]]:
    """Each message in DRF's nested error structure, with the JSON Pointer to its field."""
    if isinstance(data, dict):
        return [
            item
            for key, value in data.items()
            for item in _pointers(value, path if key in {"non_field_errors", "__all__"} else f"{path}/{key}")
        ]
    if isinstance(data, list):
        if all(isinstance(item, str) for item in data):
            return [{"pointer": f"#{path}", "detail": str(item)} for item in data]
        return [item for index, value in enumerate(data) for item in _pointers(value, f"{path}/{index}")]
    return [{"pointer": f"#{path}", "detail": str(data)}]


def problem(status_code: int, detail: str, *, code: str, errors: list[dict[str, str]] | None = None) -> dict:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The APIs' exception handler (headers such as WWW-Authenticate and Retry-After kept),
    with the body rewritten as a problem and the service layer's exceptions translated."""
    exc = _from_django(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.APIException) and isinstance(exc.detail, exceptions.ErrorDetail):
        code = exc.detail.code or code
    if isinstance(exc, exceptions.ValidationError):
        errors = _pointers(response.data)
        detail = "The request is not valid: " + "; ".join(
            f"{error['pointer'][2:] or 'request'}: {error['detail']}" for error in errors
        )
        body = problem(response.status_code, detail, code="invalid_request", errors=errors)
    else:
        data = response.data if isinstance(response.data, dict) else {"detail": response.data}
        field_errors = getattr(exc, "field_errors", None)
        pointed = _pointers(field_errors) if isinstance(field_errors, dict) else None
        body = problem(response.status_code, str(data.get("detail", "")), code=str(code), errors=pointed)
    response.data = body
    response.content_type = PROBLEM_JSON
    return response


class ProblemErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(
        help_text="JSON Pointer to the field in the request body; '#' for the whole."
    )
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, as every error of the Management API is answered."""

    type = serializers.CharField(help_text="Always about:blank: the status and code say what happened.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="A stable machine-readable reason, e.g. invalid_request, invalid_token, "
        "insufficient_scope, "
        "not_found, conflict, precondition_failed, idempotency_key_reused, throttled."
    )
    # The member RFC 9457's example names "errors"; DRF's stub types Serializer.errors.
    errors = ProblemErrorSerializer(  # type: ignore[assignment]
        many=True, required=False, help_text="Field errors of a 400, 404 or 409."
    )
