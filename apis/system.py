"""The server's own API: the Management API at ``<OIDC_ISSUER>/api/v2/``.

It is registered like any other API (a migration creates it, with the scopes below), so
machine clients get its scopes through ordinary client grants; ``Api.system`` marks it so
that nobody renames or deletes it, or changes what its scopes are.
"""

from __future__ import annotations

from django.conf import settings

from accounts.caching import TtlCache

from .models import Api, Scope

MANAGEMENT_API_NAME = "ABC Identity Management API"
MANAGEMENT_API_PATH = "/api/v2/"

# Auth0's names, so that scripts written for its Management API read the same here.
MANAGEMENT_SCOPES: dict[str, str] = {
    **{
        f"{verb}:{noun}": f"{verb.capitalize()} {label}"
        for noun, label in (
            ("users", "people"),
            ("roles", "roles"),
            ("groups", "groups"),
            ("resource_servers", "APIs (resource servers)"),
            ("clients", "applications"),
            ("client_grants", "client grants"),
        )
        for verb in ("read", "create", "update", "delete")
    },
    "read:rules": "Read the token rules",
    "update:rules": "Turn token rules on and off and order them",
    "read:logs": "Read the audit log",
    "read:stats": "Read sign-in and token statistics",
}


def management_api_register(api_model: type[Api], scope_model: type[Scope]) -> None:
    """Register the Management API with its scopes, unless it is there: its migration calls
    this with the historical models, a test after a database flush with the real ones."""
    api, _ = api_model.objects.get_or_create(
        identifier=management_api_identifier(),
        defaults={
            "name": MANAGEMENT_API_NAME,
            "signing_algorithm": "RS256",
            "token_lifetime": 86400,
            "rbac_enabled": True,  # roles cannot hold its scopes: people never get them
            "allow_skip_consent": False,
        },
    )
    api_model.objects.filter(pk=api.pk).update(system=True, name=MANAGEMENT_API_NAME)
    for value, description in MANAGEMENT_SCOPES.items():
        scope_model.objects.get_or_create(api=api, value=value, defaults={"description": description})


def management_api_identifier(issuer: str | None = None) -> str:
    """The identifier the migration gives the Management API: the issuer's ``/api/v2/``."""
    base = (settings.OIDC_ISSUER if issuer is None else issuer) or "http://localhost"
    return base.rstrip("/") + MANAGEMENT_API_PATH


# The identifier never changes once the migration has run (Api.save refuses it), so a
# process may keep it for as long as it lives; the TTL only bounds a test's database swap.
_audience: TtlCache[str, str] = TtlCache("management-audience", ttl=300, max_entries=1)


def management_audience() -> str:
    """The audience of the Management API's access tokens, as stored."""

    def load() -> str:
        stored = Api.objects.filter(system=True).values_list("identifier", flat=True).first()
        return stored or management_api_identifier()

    return _audience.get_or_load("audience", load)
