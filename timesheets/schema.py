"""What the Timesheets API's OpenAPI schema says beyond its serializers' fields: the error
bodies each operation answers (as components), and the rules of fields that drf-spectacular
cannot read off a DRF field (quarter hours, text that must not be blank).

The schema is a contract: ``tests/timesheets/test_schema_fuzz.py`` sends what it describes
and checks that the API answers only what it documents.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from apis.authentication import REALM

# Hours a person or a batch client may log: quarter hours, more than 0 and at most 24, as a
# JSON number or as the decimal string the API answers ("7.50"; CSV cells are strings).
QUARTER_HOURS_PATTERN = (
    r"^(?:(?:[1-9]|1[0-9]|2[0-3])(?:\.(?:00?|25|50?|75))?|0?\.(?:25|50?|75)|24(?:\.00?)?)$"
)
HOURS_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "number", "minimum": 0.25, "maximum": 24, "multipleOf": 0.25},
        {"type": "string", "pattern": QUARTER_HOURS_PATTERN},
    ],
    "description": 'Quarter hours, from 0.25 to 24: 7.5 or "7.50".',
}
# DRF refuses NUL characters in text (and lone surrogates, which the regular expressions of
# JSON Schema validators cannot name). A field that may not be blank needs a character that
# str.strip() keeps (ECMAScript's \s lacks \x1c-\x1f and \x85, which it strips).
_TEXT = r"^[^\u0000]+$"  # drf-spectacular adds the empty string when blank is allowed
_NOT_BLANK = r"^[^\u0000]*[^\s\u001c-\u001f\u0085\u0000][^\u0000]*$"


class HoursFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "timesheets.serializers.HoursField"

    def map_serializer_field(self, auto_schema, direction):
        return HOURS_SCHEMA


class TextFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "timesheets.serializers.TextField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        blank_ok = self.target.allow_blank or not self.target.trim_whitespace
        return {**schema, "pattern": _TEXT if blank_ok else _NOT_BLANK}


class ErrorDetailSerializer(serializers.Serializer):
    """DRF's body for an error that is about the request as a whole: one message."""

    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    """Stands for DRF's 400 body in the schema (see its extension); never instantiated."""


class BulkUploadErrorSerializer(serializers.Serializer):
    """Stands for a bulk upload's 400 body in the schema (see its extension)."""


_FIELD_ERRORS = {
    "type": "object",
    "description": "Messages by field; `non_field_errors` for the request as a whole.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "minProperties": 1,
}


class ValidationErrorSchema(OpenApiSerializerExtension):
    target_class = ValidationErrorSerializer

    def map_serializer(self, auto_schema, direction):
        detail = auto_schema.resolve_serializer(ErrorDetailSerializer, direction).ref
        return {"oneOf": [_FIELD_ERRORS, detail]}


class BulkUploadErrorSchema(OpenApiSerializerExtension):
    target_class = BulkUploadErrorSerializer

    def map_serializer(self, auto_schema, direction):
        detail = auto_schema.resolve_serializer(ErrorDetailSerializer, direction).ref
        row = {
            "type": "object",
            "properties": {"row": {"type": "integer", "minimum": 1}, "errors": _FIELD_ERRORS},
            "required": ["row", "errors"],
        }
        rows = {
            "type": "object",
            "description": "What is wrong with the upload: with the rows as a whole (messages), "
            "or with each row that breaks a rule, by its number in the upload (from 1).",
            "properties": {
                "rows": {
                    "oneOf": [
                        {"type": "array", "items": {"type": "string"}},
                        {"type": "array", "items": row},
                    ]
                }
            },
            "required": ["rows"],
        }
        return {"oneOf": [rows, detail]}


ERRORS: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(
        ValidationErrorSerializer,
        'The request is not valid: the field errors, by field, or `{"detail": ...}` for a '
        "body that cannot be read (not JSON, or an unsupported charset).",
    ),
    401: OpenApiResponse(
        ErrorDetailSerializer,
        "No bearer token, or one this API does not accept (malformed, expired, revoked, for "
        "another audience), or whose person is no longer active. `WWW-Authenticate` says "
        "why (RFC 6750).",
    ),
    403: OpenApiResponse(
        ErrorDetailSerializer,
        "The token lacks the operation's scope (`WWW-Authenticate: Bearer "
        'error="insufficient_scope"`), or its principal may not do this: a machine '
        "client on a person's operation, a person on a batch client's.",
    ),
    404: OpenApiResponse(ErrorDetailSerializer, "Nothing here that the token may see."),
    409: OpenApiResponse(
        ErrorDetailSerializer, "The entry's status does not allow this (e.g. it is approved)."
    ),
    413: OpenApiResponse(ErrorDetailSerializer, "The request body is larger than this operation reads."),
    415: OpenApiResponse(ErrorDetailSerializer, "The body's media type is not one this operation reads."),
}

WWW_AUTHENTICATE = OpenApiParameter(
    "WWW-Authenticate",
    str,
    location=OpenApiParameter.HEADER,
    response=[401, 403],
    description=(
        f'The RFC 6750 challenge: `Bearer realm="{REALM}"`, with `error="invalid_token"` and '
        'an `error_description` for a token refused (401), or `error="insufficient_scope"` and '
        "the `scope` needed (403, only for a missing scope)."
    ),
)


def id_parameter(description: str) -> OpenApiParameter:
    """The ``{id}`` of a path: a positive integer (anything else is a JSON 404)."""
    return OpenApiParameter(
        "id", {"type": "integer", "minimum": 1}, location=OpenApiParameter.PATH, description=description
    )


ENTRY_ID = id_parameter("The entry's id.")
JOB_ID = id_parameter("The bulk job's id, from the upload's `Location`.")
JOB_LOCATION = OpenApiParameter(
    "Location", str, location=OpenApiParameter.HEADER, response=[202], description="The upload's job."
)
# A bulk upload as CSV: a string to JSON Schema, which cannot say "a header row, then rows".
CSV_UPLOAD = {
    "type": "string",
    "description": "UTF-8 CSV with a header row: worker,date,project,hours,notes,external_id.",
    "example": "worker,date,project,hours\nalice@abcinc.example,2026-11-16,Apollo,7.5\n",
}


class BodyRequiredSchema(AutoSchema):
    """For an operation whose body is required whatever its media type: drf-spectacular says
    so only when every media type's schema is an object with required fields, and a CSV body
    is a string."""

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body:
            body["required"] = True
        return body


def responses(success: dict[int, Any], *errors: int) -> dict[int, Any]:
    """An operation's responses: ``success``, then the errors it answers. Every operation
    answers 401 and 403 (the token, its scope and its principal are checked first)."""
    codes = sorted({401, 403, *errors})
    return {**success, **{code: ERRORS[code] for code in codes}}
