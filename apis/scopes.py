"""django-oauth-toolkit's scopes backend, reading API scopes from the registry."""

from __future__ import annotations

from oauth2_provider.scopes import BaseScopes

from .models import EMAIL, OFFLINE_ACCESS, OPENID, PROFILE, Scope

OIDC_SCOPE_DESCRIPTIONS = {
    OPENID: "Sign you in",
    PROFILE: "See your name, nickname and picture",
    EMAIL: "See your email address",
    OFFLINE_ACCESS: "Stay signed in when you are not using the app",
}


class ApiScopes(BaseScopes):
    """OpenID Connect scopes plus every registered API's scopes.

    Which of them a request may have depends on its audience; that decision belongs to
    the token policy (``authz``), not to this list.
    """

    def get_all_scopes(self) -> dict[str, str]:
        api_scopes = {
            value: description for value, description in Scope.objects.values_list("value", "description")
        }
        return {**api_scopes, **OIDC_SCOPE_DESCRIPTIONS}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return list(self.get_all_scopes())

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        # A machine client asking for nothing in particular gets what it was granted,
        # which the token policy decides; a person's app signs them in.
        if request is not None and getattr(request, "grant_type", None) == "client_credentials":
            return []
        return [OPENID]
