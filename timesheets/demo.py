"""ABC Inc.'s Timesheets demo for ``manage.py seed_demo``: the API and its scopes, its two
applications (mobile and batch), its roles and groups.

The seed lives here rather than in ``apis``, ``clients`` and ``authz`` because it is the
Timesheets API's data: it names this app's scopes, and those apps stand below this one and
may not import it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User
from apis.models import Api
from apis.selectors import api_by_identifier
from apis.services import api_create, api_update, scope_create, scope_update
from authz.models import Group, Role
from authz.services import (
    group_add_member,
    group_add_role,
    group_create,
    group_nest,
    role_create,
    role_set_permissions,
)
from clients.models import Client
from clients.services import client_create, client_grant_set, client_update

from . import scopes
from .selectors import client_by_client_id

TIMESHEETS_API = "https://timesheets.abcinc.example/api"
MOBILE_CLIENT_ID = "timesheets-mobile"
BATCH_CLIENT_ID = "timesheets-batch"
MOBILE_CALLBACKS = ["com.abcinc.timesheets://callback", "http://127.0.0.1/callback"]
# Where the app's sign-out (the end-session endpoint) returns the person.
MOBILE_LOGOUT_URLS = ["com.abcinc.timesheets://logout"]
BATCH_SCOPES = [scopes.CREATE, scopes.READ]

ROLES: dict[str, tuple[str, list[str]]] = {
    "Timesheet User": (
        "Log, read and delete one's own time.",
        [scopes.READ, scopes.CREATE, scopes.DELETE],
    ),
    "Timesheet Approver": (
        "Approve the timesheets of one's reports.",
        [scopes.READ, scopes.APPROVE],
    ),
}


@transaction.atomic
def seed_timesheets_api() -> Api:
    """Register the Timesheets API (RS256, offline access, RBAC) with its four scopes."""
    settings: dict[str, Any] = {
        "signing_algorithm": Api.Algorithm.RS256,
        "allow_offline_access": True,
        "rbac_enabled": True,
        "add_permissions_claim": True,
    }
    api = api_by_identifier(TIMESHEETS_API)
    if api is None:
        api = api_create(identifier=TIMESHEETS_API, name="Timesheets API", **settings)
    else:
        api = api_update(api=api, name="Timesheets API", **settings)
    existing = {scope.value: scope for scope in api.scopes.all()}
    for value, description in scopes.DESCRIPTIONS.items():
        if value in existing:
            scope_update(scope=existing[value], value=value, description=description)
        else:
            scope_create(api=api, value=value, description=description)
    return api


@transaction.atomic
def seed_roles_and_groups(*, api: Api, workers: list[User], managers: list[User]) -> None:
    """Roles Timesheet User and Approver; groups All Staff (every worker) and Managers."""
    by_value = {scope.value: scope for scope in api.scopes.all()}
    roles = {}
    for name, (description, values) in ROLES.items():
        role = Role.objects.filter(name=name).first() or role_create(
            actor=None, name=name, description=description
        )
        role_set_permissions(actor=None, role=role, permissions=[by_value[value] for value in values])
        roles[name] = role

    all_staff = Group.objects.filter(name="All Staff").first() or group_create(
        actor=None, name="All Staff", description="Everyone who logs time."
    )
    managers_group = Group.objects.filter(name="Managers").first() or group_create(
        actor=None, name="Managers", description="People who approve their reports' time."
    )
    group_add_role(actor=None, group=all_staff, role=roles["Timesheet User"])
    group_add_role(actor=None, group=managers_group, role=roles["Timesheet Approver"])
    group_nest(actor=None, parent=all_staff, child=managers_group)
    for user in workers:
        group_add_member(actor=None, group=all_staff, user=user)
    for user in managers:
        group_add_member(actor=None, group=managers_group, user=user)


@transaction.atomic
def seed_timesheets_clients(*, api: Api, batch_secret: str | None) -> str | None:
    """Create or update "Timesheets Mobile" and "Timesheets Batch"; return a new batch secret.

    With ``batch_secret`` the batch client gets it. Without, a batch client created now gets
    a generated secret (returned, to be shown once); an existing one keeps its own.
    """
    _seed_mobile_client()
    return _seed_batch_client(api=api, batch_secret=batch_secret)


def _seed_mobile_client() -> None:
    settings: dict[str, Any] = {
        "name": "Timesheets Mobile",
        "description": "ABC Inc.'s mobile app for logging time.",
        "redirect_uris": MOBILE_CALLBACKS,
        "post_logout_redirect_uris": MOBILE_LOGOUT_URLS,
        "first_party": True,
        # Approvers could be asked for a second factor here (the application's setting); the
        # demo keeps the sign-in to a password unless the MFA policy says otherwise.
        "require_mfa": False,
        # Command-line tools and TVs sign in with a code typed at /activate (RFC 8628).
        "device_code_enabled": True,
    }
    mobile = client_by_client_id(MOBILE_CLIENT_ID)
    if mobile is None:
        client_create(app_type=Client.AppType.NATIVE, client_id=MOBILE_CLIENT_ID, **settings)
    else:
        client_update(client=mobile, **settings)


def _seed_batch_client(*, api: Api, batch_secret: str | None) -> str | None:
    settings: dict[str, Any] = {
        "name": "Timesheets Batch",
        "description": "Nightly import of timesheets from payroll.",
    }
    generated = None
    batch = client_by_client_id(BATCH_CLIENT_ID)
    if batch is None:
        batch, generated = client_create(
            app_type=Client.AppType.M2M, client_id=BATCH_CLIENT_ID, client_secret=batch_secret, **settings
        )
        if batch_secret is not None:
            generated = None
    else:
        client_update(client=batch, **settings)
        if batch_secret is not None:
            batch.client_secret = batch_secret
            batch.save(update_fields=["client_secret", "updated"])
    client_grant_set(client=batch, api=api, scopes=BATCH_SCOPES)
    return generated
