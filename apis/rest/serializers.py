"""Serializers that refuse what they do not know: a misspelt field is a 400, never ignored."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """A Serializer whose input may hold only its writable fields."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError({name: ["This field is not known."] for name in unknown})
        return super().to_internal_value(data)


# A subset of what Django's URLValidator accepts, as a JSON Schema pattern (ECMA syntax): an
# http(s) URL on a DNS name with a top-level domain, or localhost. A client that keeps to
# the schema is never refused; the validator still decides for anything else.
_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HTTP_URL_PATTERN = rf"^https?://(localhost|{_LABEL}(\.{_LABEL})*\.[A-Za-z]{{2,63}})(:[0-9]{{1,4}})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$"


class HttpUrlField(serializers.URLField):
    """An absolute http(s) URL, validated by Django's URLValidator; its schema carries
    HTTP_URL_PATTERN (apis.schema)."""
