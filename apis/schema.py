"""OpenAPI (drf-spectacular) description of our bearer-token authentication: OAuth 2.0,
with the scope each operation needs taken from the view's ``required_scopes``."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from accounts.issuer import issuer_url

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
