"""OpenAPI (drf-spectacular) description of our bearer-token authentication: OAuth 2.0,
with the scope each operation needs taken from the view's ``required_scopes``."""

from __future__ import annotations

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)

from accounts.issuer import issuer_url

from .rest.serializers import HTTP_URL_PATTERN
from .selectors import api_by_identifier
from .system import MANAGEMENT_API_PATH


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apis.authentication.BearerTokenAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema):
        api = api_by_identifier(auto_schema.view.audience)
        scopes = {scope.value: scope.description for scope in api.scopes.all()} if api else {}
        token_url = issuer_url("oauth2_provider:token")
        flows: dict = {"clientCredentials": {"tokenUrl": token_url, "scopes": scopes}}
        if not getattr(auto_schema.view, "machine_only", False):
            flows["authorizationCode"] = {
                "authorizationUrl": issuer_url("oauth2_provider:authorize"),
                "tokenUrl": token_url,
                "scopes": scopes,
            }
        return {
            "type": "oauth2",
            "description": f"Access tokens for the audience {auto_schema.view.audience}.",
            "flows": flows,
        }

    def get_security_requirement(self, auto_schema):
        needed = auto_schema.view.required_scopes.get(auto_schema.method)
        return {self.name: [needed] if isinstance(needed, str) else list(needed or [])}


def without_management_api(endpoints):
    """drf-spectacular hook: the Timesheets schema leaves out the Management API's paths."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith(MANAGEMENT_API_PATH)]


def only_management_api(endpoints):
    """drf-spectacular hook for the Management API's own schema."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(MANAGEMENT_API_PATH)]


class StrictSerializerSchema(OpenApiSerializerExtension):
    """A StrictSerializer refuses fields it does not know: its schema says so."""

    target_class = "apis.rest.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


_NO_NUL = "^[^\\x00]*$"
# A character DRF does not trim away (str.strip) and that neither Python's nor ECMAScript's
# \s calls whitespace, nor NUL: a required string holds at least one.
_VISIBLE = "[^\\s\\x00\\x1c-\\x1f\\x85\\ufeff]"
_NOT_BLANK = f"^[^\\x00]*{_VISIBLE}[^\\x00]*$"


def _strings_without_nul(schema) -> None:
    if isinstance(schema, dict):
        if schema.get("type") == "string" and not {"format", "enum", "pattern"} & schema.keys():
            schema["pattern"] = _NOT_BLANK if schema.get("minLength", 0) >= 1 else _NO_NUL
        for value in schema.values():
            _strings_without_nul(value)
    elif isinstance(schema, list):
        for item in schema:
            _strings_without_nul(item)


def strings_without_nul(result, generator, request, public):
    """drf-spectacular postprocessing hook: DRF refuses a NUL character in any string it
    reads (the database could not store it), and trims a string before checking that it is
    not blank; the schema of every input says both:
    parameters, request bodies, and the request components (``...Request``)."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _strings_without_nul(schema)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                _strings_without_nul(operation.get("parameters", []))
                _strings_without_nul(operation.get("requestBody", {}))
    return result


class HttpUrlFieldSchema(OpenApiSerializerFieldExtension):
    """An HttpUrlField's schema: a URL the API accepts (blank too, where the field allows it)."""

    target_class = "apis.rest.serializers.HttpUrlField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        pattern = HTTP_URL_PATTERN if not self.target.allow_blank else f"^$|{HTTP_URL_PATTERN}"
        return {**schema, "pattern": pattern}
