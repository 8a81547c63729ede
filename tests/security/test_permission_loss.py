"""Losing a permission reaches tokens already issued, at the APIs and at introspection."""

from __future__ import annotations

import time
from collections.abc import Callable
from http import HTTPStatus

import jwt
import pytest
from django.test import Client as HttpClient

from apis.services import api_update
from authz.services import (
    group_add_member,
    group_add_role,
    group_create,
    group_delete,
    group_nest,
    group_remove_member,
    group_remove_role,
    group_unnest,
    role_assign,
    role_create,
    role_delete,
    role_set_permissions,
    role_unassign,
)
from clients.services import client_grant_delete, client_grant_set, client_introspection_set
from tests.oauth import TIMESHEETS_API, Pkce, basic_auth, client_credentials, exchange, get_code

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]
SCOPE = "openid offline_access read:timesheets"


@pytest.fixture
def reader_role(timesheets_api):
    api = api_update(api=timesheets_api, rbac_enabled=True)
    role = role_create(actor=None, name="Reader")
    role_set_permissions(actor=None, role=role, permissions=list(api.scopes.filter(value="read:timesheets")))
    return role


def _api(token: str) -> int:
    return HttpClient().get("/test-api/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def _sign_in(http, client) -> dict:
    pkce = Pkce.new()
    code = get_code(http, client.client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API)
    tokens = exchange(http, client.client_id, code, pkce.verifier).json()
    assert "read:timesheets" in tokens["scope"].split()
    return tokens


def _refresh(client, token: str) -> dict:
    # iat has whole seconds: a token minted in the second of the change counts as before it.
    time.sleep(1.05)
    data = {"grant_type": "refresh_token", "refresh_token": token, "client_id": client.client_id}
    return HttpClient().post("/oauth/token", data).json()


def _by_direct_role(user, role):
    role_assign(actor=None, role=role, user=user)
    return lambda: role_unassign(actor=None, role=role, user=user)


def _by_group(user, role):
    group = group_create(actor=None, name="Payroll")
    group_add_role(actor=None, group=group, role=role)
    group_add_member(actor=None, group=group, user=user)
    return lambda: group_remove_member(actor=None, group=group, user=user)


def _by_group_role(user, role):
    group = group_create(actor=None, name="Payroll")
    group_add_role(actor=None, group=group, role=role)
    group_add_member(actor=None, group=group, user=user)
    return lambda: group_remove_role(actor=None, group=group, role=role)


def _by_nesting(user, role):
    parent, child = group_create(actor=None, name="Finance"), group_create(actor=None, name="Payroll")
    group_add_role(actor=None, group=parent, role=role)
    group_nest(actor=None, parent=parent, child=child)
    group_add_member(actor=None, group=child, user=user)
    return lambda: group_unnest(actor=None, parent=parent, child=child)


def _by_group_deleted(user, role):
    group = group_create(actor=None, name="Payroll")
    group_add_role(actor=None, group=group, role=role)
    group_add_member(actor=None, group=group, user=user)
    return lambda: group_delete(actor=None, group=group)


def _by_permission_removed(user, role):
    role_assign(actor=None, role=role, user=user)
    return lambda: role_set_permissions(actor=None, role=role, permissions=[])


def _by_role_deleted(user, role):
    role_assign(actor=None, role=role, user=user)
    return lambda: role_delete(actor=None, role=role)


CHANGES: dict[str, Callable] = {
    "role unassigned": _by_direct_role,
    "left the group": _by_group,
    "role removed from the group": _by_group_role,
    "group taken out of its parent": _by_nesting,
    "group deleted": _by_group_deleted,
    "permission removed from the role": _by_permission_removed,
    "role deleted": _by_role_deleted,
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_lost_permission_ends_earlier_tokens_and_the_refresh_narrows(
    change, user, user_client, public_client, reader_role
):
    lose = CHANGES[change](user, reader_role)
    tokens = _sign_in(user_client, public_client)
    assert _api(tokens["access_token"]) == HTTPStatus.OK

    lose()
    assert _api(tokens["access_token"]) == HTTPStatus.UNAUTHORIZED

    refreshed = _refresh(public_client, tokens["refresh_token"])
    assert "read:timesheets" not in refreshed["scope"].split()
    assert _api(refreshed["access_token"]) == HTTPStatus.FORBIDDEN  # valid, but without the scope


def test_someone_who_keeps_the_permission_another_way_keeps_the_token(
    user, user_client, public_client, reader_role
):
    role_assign(actor=None, role=reader_role, user=user)
    group = group_create(actor=None, name="Payroll")
    group_add_role(actor=None, group=group, role=reader_role)
    group_add_member(actor=None, group=group, user=user)
    tokens = _sign_in(user_client, public_client)

    role_unassign(actor=None, role=reader_role, user=user)  # still held through the group
    assert _api(tokens["access_token"]) == HTTPStatus.OK


def test_introspection_agrees_with_the_api(
    user, user_client, public_client, reader_role, confidential_client
):
    machine, secret = confidential_client  # the Timesheets API's resource server
    client_introspection_set(client=machine, api=reader_role.permissions.first().api, allowed=True)
    role_assign(actor=None, role=reader_role, user=user)
    tokens = _sign_in(user_client, public_client)

    def introspect() -> dict:
        return (
            HttpClient()
            .post(
                "/oauth/introspect",
                {"token": tokens["access_token"]},
                HTTP_AUTHORIZATION=basic_auth(machine.client_id, secret),
            )
            .json()
        )

    assert introspect()["active"] is True
    role_unassign(actor=None, role=reader_role, user=user)
    assert introspect() == {"active": False}


@pytest.mark.parametrize("narrow", ["fewer scopes", "grant deleted"])
def test_a_narrowed_client_grant_ends_the_machines_earlier_tokens(
    narrow, confidential_client, timesheets_api
):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets", "create:timesheets"])
    token = client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()["access_token"]
    assert _api(token) == HTTPStatus.OK

    if narrow == "grant deleted":
        client_grant_delete(client=client, api=timesheets_api)
    else:
        client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    assert _api(token) == HTTPStatus.UNAUTHORIZED

    if narrow == "fewer scopes":
        time.sleep(1.05)
        fresh = client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()["access_token"]
        assert jwt.decode(fresh, options={"verify_signature": False})["scope"] == "read:timesheets"
        assert _api(fresh) == HTTPStatus.OK
