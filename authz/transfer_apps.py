"""The APIs, applications and client grants of a configuration: read from the database, and
made to match a file through the same services as the dashboard (so the same checks and
audit entries). The system API is never read as an API here, nor created, changed or
deleted; grants and introspection rights on it are, under its identifier.
"""

from __future__ import annotations

from accounts.models import User
from apis.models import Api
from apis.services import api_create, api_delete, api_update, scope_create, scope_delete, scope_update
from clients.models import Client, ClientGrant
from clients.services import (
    client_create,
    client_delete,
    client_grant_delete,
    client_grant_set,
    client_introspection_set,
    client_update,
)

from .transfer_format import (
    API_FIELDS,
    CLIENT_FIELDS,
    CLIENT_LISTS,
    ApiSpec,
    ClientSpec,
    ConfigState,
    problem_at,
)


def stored_apps(state: ConfigState) -> None:
    """Fill ``state``'s APIs, applications and grants from the database, in a few queries."""
    for api in Api.objects.filter(system=False).prefetch_related("scopes"):
        state.apis[api.identifier] = ApiSpec(
            settings={name: getattr(api, name) for name in API_FIELDS},
            scopes={scope.value: scope.description for scope in api.scopes.all()},
        )
    for client in Client.objects.prefetch_related("may_introspect"):
        state.applications[client.client_id] = ClientSpec(
            app_type=client.app_type,
            settings={name: getattr(client, name) for name in CLIENT_FIELDS},
            lists={key: frozenset(getattr(client, field).split()) for key, field in CLIENT_LISTS.items()},
            may_introspect=frozenset(api.identifier for api in client.may_introspect.all()),
        )
    for grant in ClientGrant.objects.select_related("client", "api").prefetch_related("scopes"):
        key = (grant.client.client_id, grant.api.identifier)
        state.grants[key] = frozenset(scope.value for scope in grant.scopes.all())


def remove_apps(*, actor: User | None, stored: ConfigState, wanted: ConfigState) -> None:
    """Delete the grants, applications and APIs that the file leaves out (grants first, so
    that each is audited; a deleted application's tokens and an API's are revoked)."""
    clients = {
        client.client_id: client for client in Client.objects.filter(client_id__in=stored.applications)
    }
    apis = {
        api.identifier: api for api in Api.objects.filter(identifier__in={api for _, api in stored.grants})
    }
    for client_id, identifier in sorted(stored.grants.keys() - wanted.grants.keys()):
        if client_id in wanted.applications:  # otherwise it goes with its application
            client_grant_delete(client=clients[client_id], api=apis[identifier], actor=actor)
    for client_id in sorted(stored.applications.keys() - wanted.applications.keys()):
        client_delete(client=clients[client_id], actor=actor)
    for api in Api.objects.filter(system=False, identifier__in=stored.apis.keys() - wanted.apis.keys()):
        api_delete(api=api, actor=actor)


def apply_apis(*, actor: User | None, stored: ConfigState, wanted: ConfigState) -> None:
    """Create the file's APIs and make the others' settings and scopes match it."""
    existing = {
        api.identifier: api
        for api in Api.objects.filter(system=False, identifier__in=wanted.apis).prefetch_related("scopes")
    }
    for identifier, spec in sorted(wanted.apis.items()):
        with problem_at(wanted.paths.get(("api", identifier), "apis"), f"API {identifier}"):
            api = existing.get(identifier)
            if api is None:
                api_create(
                    identifier=identifier,
                    scopes=dict(sorted(spec.scopes.items())),
                    actor=actor,
                    **spec.settings,
                )
                continue
            if stored.apis[identifier].settings != spec.settings:
                api_update(api=api, actor=actor, **spec.settings)
            scopes = {scope.value: scope for scope in api.scopes.all()}
            for value in sorted(scopes.keys() - spec.scopes.keys()):
                scope_delete(scope=scopes[value], actor=actor)
            for value, description in sorted(spec.scopes.items()):
                if value not in scopes:
                    scope_create(api=api, value=value, description=description, actor=actor)
                elif scopes[value].description != description:
                    scope_update(scope=scopes[value], value=value, description=description, actor=actor)


def apply_applications(*, actor: User | None, stored: ConfigState, wanted: ConfigState) -> dict[str, str]:
    """Create the file's applications, make the others match it, and set their grants.

    Returns the secrets of the confidential applications it created, by client id: the only
    time they are shown. An existing application's secret is never touched.
    """
    secrets: dict[str, str] = {}
    clients = {
        client.client_id: client for client in Client.objects.filter(client_id__in=wanted.applications)
    }
    apis = {api.identifier: api for api in Api.objects.all()}
    for client_id, spec in sorted(wanted.applications.items()):
        with problem_at(
            wanted.paths.get(("application", client_id), "applications"), f"Application {client_id}"
        ):
            fields = {
                **spec.settings,
                **{field: sorted(spec.lists[key]) for key, field in CLIENT_LISTS.items()},
            }
            before = stored.applications.get(client_id)
            if before is None:
                clients[client_id], secret = client_create(
                    app_type=spec.app_type, client_id=client_id, actor=actor, **fields
                )
                if secret is not None:
                    secrets[client_id] = secret
            elif (before.settings, before.lists) != (spec.settings, spec.lists):
                client_update(client=clients[client_id], actor=actor, **fields)
            old = before.may_introspect if before else frozenset()
            for identifier in sorted((old ^ spec.may_introspect) & apis.keys()):
                allowed = identifier in spec.may_introspect
                client_introspection_set(
                    client=clients[client_id], api=apis[identifier], allowed=allowed, actor=actor
                )
    for (client_id, identifier), scopes in sorted(wanted.grants.items()):
        if stored.grants.get((client_id, identifier)) != scopes:
            path = wanted.paths.get(("grant", f"{client_id} {identifier}"), "client_grants")
            with problem_at(path, f"Grant of {client_id} on {identifier}"):
                client_grant_set(
                    client=clients[client_id], api=apis[identifier], scopes=sorted(scopes), actor=actor
                )
    return secrets
