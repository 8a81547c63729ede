"""OpenAPI (drf-spectacular) description of our bearer-token authentication: OAuth 2.0,
with the scope each operation needs taken from the view's ``required_scopes``."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from accounts.issuer import issuer_url

from .selectors import api_by_identifier


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apis.authentication.BearerTokenAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema):
        api = api_by_identifier(auto_schema.view.audience)
        scopes = {scope.value: scope.description for scope in api.scopes.all()} if api else {}
        token_url = issuer_url("oauth2_provider:token")
        return {
            "type": "oauth2",
            "description": f"Access tokens for the audience {auto_schema.view.audience}.",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": issuer_url("oauth2_provider:authorize"),
                    "tokenUrl": token_url,
                    "scopes": scopes,
                },
                "clientCredentials": {"tokenUrl": token_url, "scopes": scopes},
            },
        }

    def get_security_requirement(self, auto_schema):
        needed = auto_schema.view.required_scopes.get(auto_schema.method)
        return {self.name: [needed] if isinstance(needed, str) else list(needed or [])}
