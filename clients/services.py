"""Writes to the application registry, for the dashboard, seed_demo and tests alike."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.generators import generate_client_id, generate_client_secret

from accounts.audit import audit_record, snapshot
from accounts.models import User
from apis.models import Api, Revocation
from apis.revocation import pair, revoke, revoke_client_tokens

from .models import Client, ClientGrant
from .types import PROFILES

CLIENT_SETTINGS_FIELDS = (
    "name",
    "description",
    "logo_uri",
    "redirect_uris",
    "post_logout_redirect_uris",
    "allowed_origins",
    "token_endpoint_auth_method",
    "first_party",
    "rotate_refresh_token",
    "refresh_token_absolute_lifetime",
    "refresh_token_idle_lifetime",
    "logout_revokes_refresh_tokens",
    "backchannel_logout_uri",
    "backchannel_logout_session_required",
    "require_mfa",
    "require_par",
    "require_dpop",
    "jwks",
    "jwks_uri",
    "device_code_enabled",
)


def _words(values: Iterable[str] | str) -> str:
    items = values.split() if isinstance(values, str) else [v.strip() for v in values]
    return " ".join(dict.fromkeys(item for item in items if item))


@transaction.atomic
def client_create(
    *,
    app_type: str,
    name: str,
    redirect_uris: Iterable[str] | str = (),
    post_logout_redirect_uris: Iterable[str] | str = (),
    allowed_origins: Iterable[str] | str = (),
    token_endpoint_auth_method: str | None = None,
    first_party: bool = False,
    client_id: str | None = None,
    client_secret: str | None = None,
    actor: User | None = None,
    **fields,
) -> tuple[Client, str | None]:
    """Register an application; returns it and its secret in clear (shown once), if any.

    The type decides whether it is public or confidential, its grant, and its default
    authentication method. The secret is stored hashed.
    """
    profile = PROFILES[app_type]
    secret = None if profile.is_public else (client_secret or generate_client_secret())
    client = Client(
        app_type=app_type,
        name=name.strip(),
        client_id=client_id or generate_client_id(),
        client_type=profile.client_type,
        authorization_grant_type=profile.grant_type,
        token_endpoint_auth_method=token_endpoint_auth_method or profile.default_auth_method,
        client_secret=secret or "",
        hash_client_secret=not profile.is_public,
        redirect_uris=_words(redirect_uris),
        post_logout_redirect_uris=_words(post_logout_redirect_uris),
        allowed_origins=_words(allowed_origins),
        first_party=first_party,
        algorithm=Client.RS256_ALGORITHM if profile.has_callbacks else Client.NO_ALGORITHM,
        **fields,
    )
    _validate(client)
    client.save()
    audit_record(actor=actor, action="client.create", target=client, after=_state(client))
    return client, secret


def _state(client: Client) -> dict:
    return snapshot(client, ("client_id", "app_type", *CLIENT_SETTINGS_FIELDS))


def _validate(client: Client) -> None:
    if client.token_endpoint_auth_method not in client.profile.auth_methods:
        message = f"A {client.get_app_type_display()} application cannot use this method."
        raise ValidationError({"token_endpoint_auth_method": message})
    # client_secret is DOT's hashing field: validating it would compare against the hash.
    client.full_clean(exclude=["client_secret", "user"])


@transaction.atomic
def client_update(*, client: Client, actor: User | None = None, **fields) -> Client:
    """Change an application's settings; its type and client id never change."""
    unknown = set(fields) - set(CLIENT_SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"client_update() cannot change {', '.join(sorted(unknown))}")
    before = _state(client)
    for name, value in fields.items():
        if name in {"redirect_uris", "post_logout_redirect_uris", "allowed_origins"}:
            value = _words(value)
        setattr(client, name, value)
    _validate(client)
    client.save()
    if _state(client) != before:
        audit_record(actor=actor, action="client.update", target=client, before=before, after=_state(client))
    return client


@transaction.atomic
def client_secret_rotate(*, client: Client, actor: User | None = None) -> str:
    """A new secret, returned in clear once; the old one stops working at once."""
    if client.profile.is_public:
        raise ValidationError("Public applications have no secret.")
    secret = generate_client_secret()
    client.client_secret = secret
    client.save(update_fields=["client_secret", "updated"])
    audit_record(actor=actor, action="client.secret_rotate", target=client)
    return secret


@transaction.atomic
def client_delete(*, client: Client, actor: User | None = None) -> None:
    audit_record(actor=actor, action="client.delete", target=client, before=_state(client))
    client_id = client.client_id
    client.delete()
    # Its JWTs are self-contained: the APIs learn of the deletion from the revocation list.
    revoke_client_tokens(client_id)


@transaction.atomic
def client_grant_set(
    *, client: Client, api: Api, scopes: Iterable[str], actor: User | None = None
) -> ClientGrant:
    """Authorize a machine client to call ``api`` with ``scopes`` (a subset of the API's)."""
    if client.app_type != Client.AppType.M2M:
        raise ValidationError("Only machine-to-machine applications are granted APIs directly.")
    wanted = set(scopes)
    defined = {scope.value: scope for scope in api.scopes.all()}
    unknown = wanted - set(defined)
    if unknown:
        raise ValidationError(f"{api.name} has no scope {', '.join(sorted(unknown))}.")
    grant, created = ClientGrant.objects.get_or_create(client=client, api=api)
    before = None if created else sorted(scope.value for scope in grant.scopes.all())
    grant.scopes.set([defined[value] for value in wanted])
    if before is not None and set(before) - wanted:
        # Tokens minted under the wider grant stop working; the next one has the new scopes.
        revoke([(Revocation.Kind.CLIENT_AUDIENCE, pair(client.client_id, api.identifier))])
    if before != sorted(wanted):
        audit_record(
            actor=actor,
            action="client.grant",
            target=client,
            before=None if before is None else {"api": api.identifier, "scopes": before},
            after={"api": api.identifier, "scopes": sorted(wanted)},
        )
    return grant


@transaction.atomic
def client_grant_delete(*, client: Client, api: Api, actor: User | None = None) -> bool:
    """End ``client``'s grant on ``api``; False when it had none (nothing changed)."""
    grant = ClientGrant.objects.filter(client=client, api=api).first()
    if grant is None:
        return False
    before = {"api": api.identifier, "scopes": sorted(scope.value for scope in grant.scopes.all())}
    grant.delete()
    revoke([(Revocation.Kind.CLIENT_AUDIENCE, pair(client.client_id, api.identifier))])
    audit_record(actor=actor, action="client.ungrant", target=client, before=before)
    return True


@transaction.atomic
def client_introspection_set(*, client: Client, api: Api, allowed: bool, actor: User | None = None) -> None:
    """Allow ``client`` to introspect the access tokens of ``api`` (it is that API's resource
    server), or stop it. Every client introspects its own tokens without this.

    Only a confidential client authenticates at the introspection endpoint, so only one can
    be allowed.
    """
    if allowed and client.profile.is_public:
        raise ValidationError("A public application cannot authenticate to introspect tokens.")
    if client.may_introspect.filter(pk=api.pk).exists() == allowed:
        return
    if allowed:
        client.may_introspect.add(api)
    else:
        client.may_introspect.remove(api)
    change = {"api": api.identifier}
    audit_record(
        actor=actor,
        action="client.introspection_allow" if allowed else "client.introspection_deny",
        target=client,
        before=None if allowed else change,
        after=change if allowed else None,
    )
