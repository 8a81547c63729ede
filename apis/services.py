"""Writes to the API registry. The dashboard, seed_demo and tests all go through here."""

from __future__ import annotations

from django.db import transaction

from .keys import signing_key_rotate
from .models import Api, Scope, SigningKey, generate_hs256_secret
from .tokens import verifier_cache

API_SETTINGS_FIELDS = (
    "name",
    "signing_algorithm",
    "token_lifetime",
    "allow_offline_access",
    "rbac_enabled",
    "add_permissions_claim",
    "allow_skip_consent",
)


@transaction.atomic
def api_create(*, identifier: str, name: str, scopes: dict[str, str] | None = None, **fields) -> Api:
    """Register an API; ``scopes`` maps scope values to their descriptions."""
    api = Api(identifier=identifier, name=name, **fields)
    api.full_clean()
    api.save()
    for value, description in (scopes or {}).items():
        scope_create(api=api, value=value, description=description)
    return api


@transaction.atomic
def api_update(*, api: Api, **fields) -> Api:
    """Change an API's settings. The identifier is not among them: it never changes."""
    unknown = set(fields) - set(API_SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"api_update() cannot change {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(api, name, value)
    api.full_clean()
    api.save()
    transaction.on_commit(verifier_cache.clear)
    return api


@transaction.atomic
def api_delete(*, api: Api) -> None:
    api.delete()
    transaction.on_commit(verifier_cache.clear)


@transaction.atomic
def api_secret_rotate(*, api: Api) -> Api:
    """Replace the HS256 secret: tokens signed with the old one stop validating."""
    api.hs256_secret = generate_hs256_secret()
    api.save(update_fields=["hs256_secret", "updated_at"])
    transaction.on_commit(verifier_cache.clear)
    return api


@transaction.atomic
def scope_create(*, api: Api, value: str, description: str) -> Scope:
    scope = Scope(api=api, value=value.strip(), description=description.strip())
    scope.full_clean()
    scope.save()
    return scope


@transaction.atomic
def scope_update(*, scope: Scope, value: str, description: str) -> Scope:
    scope.value = value.strip()
    scope.description = description.strip()
    scope.full_clean()
    scope.save()
    return scope


@transaction.atomic
def scope_delete(*, scope: Scope) -> None:
    scope.delete()


def signing_key_rotate_now() -> SigningKey:
    """Rotate the server's RSA key (dashboard action)."""
    key = signing_key_rotate()
    verifier_cache.clear()
    return key
