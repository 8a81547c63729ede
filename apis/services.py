"""Writes to the API registry. The dashboard, seed_demo and tests all go through here."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from accounts.audit import audit_record, snapshot
from accounts.errors import Conflict
from accounts.models import User

from .keys import RS256, next_keys, signing_key_rotate
from .models import Api, Scope, SigningKey, generate_hs256_secret
from .revocation import revoke_audience_tokens

API_SETTINGS_FIELDS = (
    "name",
    "signing_algorithm",
    "token_lifetime",
    "allow_offline_access",
    "rbac_enabled",
    "add_permissions_claim",
    "allow_skip_consent",
)


AUDITED_FIELDS = ("identifier", *API_SETTINGS_FIELDS)


def _check_not_system(api: Api, doing: str) -> None:
    if api.system:
        raise Conflict(f"{api.name} is the server's own API: its {doing}.", code="protected")


@transaction.atomic
def api_create(
    *, identifier: str, name: str, scopes: dict[str, str] | None = None, actor: User | None = None, **fields
) -> Api:
    """Register an API; ``scopes`` maps scope values to their descriptions."""
    api = Api(identifier=identifier, name=name, **fields)
    api.full_clean()
    api.save()
    audit_record(actor=actor, action="api.create", target=api, after=snapshot(api, AUDITED_FIELDS))
    for value, description in (scopes or {}).items():
        scope_create(api=api, value=value, description=description, actor=actor)
    return api


@transaction.atomic
def api_update(*, api: Api, actor: User | None = None, **fields) -> Api:
    """Change an API's settings. The identifier is not among them: it never changes."""
    unknown = set(fields) - set(API_SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"api_update() cannot change {', '.join(sorted(unknown))}")
    if "name" in fields and fields["name"] != api.name:
        _check_not_system(api, "name cannot be changed")
    before = snapshot(api, AUDITED_FIELDS)
    for name, value in fields.items():
        setattr(api, name, value)
    api.full_clean()
    api.save()
    after = snapshot(api, AUDITED_FIELDS)
    if after != before:
        audit_record(actor=actor, action="api.update", target=api, before=before, after=after)
    return api


@transaction.atomic
def api_delete(*, api: Api, actor: User | None = None) -> None:
    """Delete the API; its tokens are refused from now on, even by an API registered again
    under the same identifier (RS256 tokens share the server's key)."""
    _check_not_system(api, "registration cannot be deleted")
    audit_record(actor=actor, action="api.delete", target=api, before=snapshot(api, AUDITED_FIELDS))
    revoke_audience_tokens(api.identifier)
    api.delete()


@transaction.atomic
def api_secret_rotate(*, api: Api, actor: User | None = None) -> Api:
    """Replace the HS256 secret: tokens signed with the old one stop validating."""
    api.hs256_secret = generate_hs256_secret()
    api.save(update_fields=["hs256_secret", "updated_at"])
    audit_record(actor=actor, action="api.secret_rotate", target=api)
    return api


def _scope_state(scope: Scope) -> dict[str, str]:
    return {"api": scope.api.identifier, "value": scope.value, "description": scope.description}


def _scope_full_clean(scope: Scope) -> None:
    """``full_clean``, with a duplicate said in plain words: Django's "Scope with this Api and
    Value already exists." becomes "This API already has a scope read:x." (still coded
    ``unique``, which the Management API answers with 409)."""
    try:
        scope.full_clean()
    except ValidationError as error:
        errors = error.update_error_dict({})
        errors[NON_FIELD_ERRORS] = [
            ValidationError(f"This API already has a scope {scope.value}.", code="unique")
            if item.code in {"unique", "unique_together"}
            else item
            for item in errors.get(NON_FIELD_ERRORS, [])
        ]
        raise ValidationError({field: items for field, items in errors.items() if items}) from None


@transaction.atomic
def scope_create(*, api: Api, value: str, description: str, actor: User | None = None) -> Scope:
    _check_not_system(api, "scopes are fixed by the server")
    scope = Scope(api=api, value=value.strip(), description=description.strip())
    _scope_full_clean(scope)
    scope.save()
    audit_record(actor=actor, action="scope.create", target=scope, after=_scope_state(scope))
    return scope


@transaction.atomic
def scope_update(*, scope: Scope, value: str, description: str, actor: User | None = None) -> Scope:
    _check_not_system(scope.api, "scopes are fixed by the server")
    before = _scope_state(scope)
    scope.value = value.strip()
    scope.description = description.strip()
    _scope_full_clean(scope)
    scope.save()
    if _scope_state(scope) != before:
        audit_record(
            actor=actor, action="scope.update", target=scope, before=before, after=_scope_state(scope)
        )
    return scope


@transaction.atomic
def scope_delete(*, scope: Scope, actor: User | None = None) -> None:
    _check_not_system(scope.api, "scopes are fixed by the server")
    audit_record(actor=actor, action="scope.delete", target=scope, before=_scope_state(scope))
    scope.delete()


@transaction.atomic
def signing_key_rotate_now(*, actor: User | None = None) -> SigningKey:
    """Rotate the server's signing keys, RSA and (once in use) EC, together (the dashboard's
    and the Management API's action): the next keys the schedule published sign from now on,
    however long they have been published, and new keys where none was published.

    Every process sees the new keys at once: writing a key changes the CONFIGURATION version."""
    upcoming = next_keys().filter(algorithm=RS256).first()
    key = signing_key_rotate()
    published_ahead = upcoming is not None and upcoming.pk == key.pk
    audit_record(
        actor=actor,
        action="signing_key.rotate",
        target=key,
        after={"kid": key.kid, "published_ahead": published_ahead},
    )
    return key
