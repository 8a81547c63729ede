"""A person's roles, groups and permissions are computed once and kept between requests; any
change to them reaches the very next token, in every process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import HTTPStatus

import jwt
import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from accounts.caching import forget_all
from accounts.versions import SharedVersion
from apis.services import api_update, scope_delete
from authz.models import Group, Role
from authz.permission_loss import permission_loss_preview
from authz.selectors import user_entitlements, user_permission_values
from authz.services import (
    group_add_member,
    group_add_role,
    group_create,
    group_nest,
    group_remove_member,
    group_unnest,
    role_assign,
    role_create,
    role_set_permissions,
    role_unassign,
)
from tests.oauth import TIMESHEETS_API, Pkce, exchange, get_code

pytestmark = pytest.mark.django_db
NS = "https://abcinc.example/"
EVERYTHING = "openid offline_access read:timesheets create:timesheets approve:timesheets delete:timesheets"
PERMISSION_TABLES = ("authz_role", "authz_group")  # and their many-to-many tables


@pytest.fixture
def people_and_roles(user, timesheets_api, settings):
    """Alice holds Timesheet User directly, Deleter through Managers, and Approver through All
    Staff, which Managers is nested in."""
    # A copy outlives the test unless the version says otherwise: expiry cannot hide a stale one.
    settings.SHARED_VERSION_LOCAL_SECONDS = 3600
    api = api_update(api=timesheets_api, rbac_enabled=True, add_permissions_claim=True)
    scopes = {scope.value: scope for scope in api.scopes.all()}
    roles = {}
    for name, values in [
        ("Timesheet User", ["read:timesheets", "create:timesheets"]),
        ("Approver", ["approve:timesheets"]),
        ("Deleter", ["delete:timesheets"]),
    ]:
        roles[name] = role_create(actor=None, name=name)
        role_set_permissions(actor=None, role=roles[name], permissions=[scopes[value] for value in values])
    staff = group_create(actor=None, name="All Staff")
    managers = group_create(actor=None, name="Managers")
    group_nest(actor=None, parent=staff, child=managers)
    group_add_role(actor=None, group=staff, role=roles["Approver"])
    group_add_role(actor=None, group=managers, role=roles["Deleter"])
    group_add_member(actor=None, group=managers, user=user)
    role_assign(actor=None, role=roles["Timesheet User"], user=user)
    return roles


def _sign_in(http: HttpClient, client) -> dict:
    pkce = Pkce.new()
    code = get_code(http, client.client_id, pkce, scope=EVERYTHING, audience=TIMESHEETS_API)
    response = exchange(http, client.client_id, code, pkce.verifier)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _refresh(client, refresh_token: str) -> dict:
    response = HttpClient().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id},
    )
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _held(body: dict) -> dict[str, set[str]]:
    """What the tokens of a response say the person may do and is."""
    access = jwt.decode(body["access_token"], options={"verify_signature": False})
    held = {
        "scope": set(access["scope"].split()) - {"openid", "offline_access"},
        "permissions": set(access["permissions"]),
        "roles": set(access[f"{NS}roles"]),
        "groups": set(access[f"{NS}groups"]),
    }
    identity = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert (set(identity[f"{NS}roles"]), set(identity[f"{NS}groups"])) == (held["roles"], held["groups"])
    return held


FULL = {
    "scope": {"read:timesheets", "create:timesheets", "approve:timesheets", "delete:timesheets"},
    "permissions": {"read:timesheets", "create:timesheets", "approve:timesheets", "delete:timesheets"},
    "roles": {"Timesheet User", "Approver", "Deleter"},
    "groups": {"All Staff", "Managers"},
}


def _permission_queries(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries if any(table in query["sql"] for table in PERMISSION_TABLES)]


def test_later_exchanges_for_the_same_person_read_no_permission(people_and_roles, public_client, user_client):
    # The first token also makes the signing key, a configuration change: warm after it.
    body = _refresh(public_client, _sign_in(user_client, public_client)["refresh_token"])
    with CaptureQueriesContext(connection) as warm:
        body = _refresh(public_client, body["refresh_token"])
    assert _permission_queries(warm) == []
    assert _held(body) == FULL

    forget_all()  # a process that has not served this person yet
    with CaptureQueriesContext(connection) as cold:
        body = _refresh(public_client, body["refresh_token"])
    assert len(_permission_queries(cold)) == 5  # once, not once per use (17 before)
    assert _held(body) == FULL


@contextmanager
def _in_another_process(django_capture_on_commit_callbacks) -> Iterator[None]:
    """Make the block's change as another process would: this process's copies are not told,
    and learn of it only from the shared versions, once the change has committed."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SharedVersion, "_forget_local", lambda self: None)
        with django_capture_on_commit_callbacks(execute=True):
            yield


def _unassign(user, roles):
    role_unassign(actor=None, role=roles["Timesheet User"], user=user)


def _take_permission(user, roles):
    read = roles["Timesheet User"].permissions.get(value="read:timesheets")
    role_set_permissions(actor=None, role=roles["Timesheet User"], permissions=[read])


def _leave_group(user, roles):
    group_remove_member(actor=None, group=Group.objects.get(name="Managers"), user=user)


def _unnest(user, roles):
    staff, managers = Group.objects.get(name="All Staff"), Group.objects.get(name="Managers")
    group_unnest(actor=None, parent=staff, child=managers)


def _delete_scope(user, roles):
    scope_delete(scope=roles["Approver"].permissions.get(value="approve:timesheets"))


@pytest.mark.parametrize(
    ("change", "lost"),
    [
        (_unassign, {"scope": {"read:timesheets", "create:timesheets"}, "roles": {"Timesheet User"}}),
        (_take_permission, {"scope": {"create:timesheets"}}),
        (
            _leave_group,
            {
                "scope": {"approve:timesheets", "delete:timesheets"},
                "roles": {"Approver", "Deleter"},
                "groups": {"All Staff", "Managers"},
            },
        ),
        (_unnest, {"scope": {"approve:timesheets"}, "roles": {"Approver"}, "groups": {"All Staff"}}),
        (_delete_scope, {"scope": {"approve:timesheets"}}),
    ],
    ids=["role unassigned", "permission taken from role", "left group", "group unnested", "scope deleted"],
)
def test_a_change_anywhere_reaches_the_very_next_token(
    people_and_roles,
    user,
    public_client,
    user_client,
    django_capture_on_commit_callbacks,
    change: Callable,
    lost: dict[str, set[str]],
):
    body = _refresh(public_client, _sign_in(user_client, public_client)["refresh_token"])
    assert _held(body) == FULL  # and this process keeps it

    with _in_another_process(django_capture_on_commit_callbacks):
        change(user, people_and_roles)

    lost["permissions"] = lost["scope"]
    expected = {claim: values - lost.get(claim, set()) for claim, values in FULL.items()}
    assert _held(_refresh(public_client, body["refresh_token"])) == expected


def test_a_previewed_change_is_not_kept(people_and_roles, user, public_client, user_client):
    body = _refresh(public_client, _sign_in(user_client, public_client)["refresh_token"])
    role = people_and_roles["Timesheet User"]
    loss = permission_loss_preview([user], lambda: role.users.remove(user))
    assert loss.lost == {user: {TIMESHEETS_API}}
    # The preview rolled back: nothing it saw in the meantime may serve the next token.
    assert _held(_refresh(public_client, body["refresh_token"])) == FULL


def test_the_kept_copy_is_plain_data_that_callers_cannot_change(people_and_roles, user, timesheets_api):
    held = user_permission_values(user, timesheets_api)
    held.clear()
    assert set(user_permission_values(user, timesheets_api)) == FULL["permissions"]

    def plain(value) -> bool:
        if isinstance(value, dict):
            return all(isinstance(key, int | str) and plain(item) for key, item in value.items())
        if isinstance(value, tuple):
            return all(plain(item) for item in value)
        return isinstance(value, int | str)

    entitlements = user_entitlements(user)
    assert plain(entitlements.permissions) and plain(entitlements.roles) and plain(entitlements.groups)
    assert entitlements.roles == ("Approver", "Deleter", "Timesheet User")
    assert entitlements.permissions[timesheets_api.pk]["approve:timesheets"] == (
        "role Approver via group All Staff (through Managers)",
    )


def test_a_person_created_in_place_of_a_deleted_one_gets_nothing_of_theirs(
    people_and_roles, user, timesheets_api
):
    assert user_permission_values(user, timesheets_api)
    pk = user.pk
    user.delete()  # cascades to memberships without a many-to-many signal
    newcomer = type(user).objects.create_user(pk=pk, email="newcomer@abcinc.example", password="x" * 20)
    assert user_permission_values(newcomer, timesheets_api) == {}
    assert not Role.objects.filter(users=newcomer).exists()
