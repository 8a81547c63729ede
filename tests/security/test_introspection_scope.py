"""Catalogue: who may introspect which token (RFC 7662 §2.1 and §4).

A client introspects its own tokens; a client an administrator allowed to introspect for
an API (that API's resource server) introspects that API's tokens; to anyone else every
token is exactly ``{"active": false}``, like an unknown one (§2.2), so introspection never
tells a stranger whose token it is, what it may do or for whom. See also
tests/security/test_revocation_introspection.py.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient

from accounts.models import AuditEntry
from clients.services import client_grant_set, client_introspection_set
from tests.oauth import TIMESHEETS_API, Pkce, basic_auth, client_credentials, exchange, get_code

from .helpers import sign_in, web_code, web_exchange

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]
INACTIVE = {"active": False}


def _introspect(token: str, caller) -> dict:
    client, secret = caller
    response = HttpClient().post(
        "/oauth/introspect", {"token": token}, HTTP_AUTHORIZATION=basic_auth(client.client_id, secret)
    )
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _machine_token(machine, api) -> str:
    client, secret = machine
    client_grant_set(client=client, api=api, scopes=[scope.value for scope in api.scopes.all()][:1])
    response = client_credentials(client.client_id, secret, audience=api.identifier)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["access_token"]


@pytest.fixture
def user_tokens(public_client, user_client, timesheets_api) -> dict:
    """A person's tokens for the Timesheets API, issued to the mobile app."""
    return sign_in(user_client, public_client.client_id)


# --- Strangers learn nothing ------------------------------------------------------------------


def test_another_clients_token_is_inactive_to_a_stranger(user_tokens, confidential_client, timesheets_api):
    # A client grant for the same API lets the machine call it, not read people's tokens.
    client_grant_set(client=confidential_client[0], api=timesheets_api, scopes=["read:timesheets"])
    assert _introspect(user_tokens["access_token"], confidential_client) == INACTIVE


def test_another_machines_token_is_inactive(confidential_client, other_confidential_client, timesheets_api):
    token = _machine_token(other_confidential_client, timesheets_api)
    assert _introspect(token, confidential_client) == INACTIVE
    assert _introspect(token, other_confidential_client)["active"] is True


def test_a_web_app_cannot_introspect_the_mobile_apps_token(user_tokens, web_client):
    assert _introspect(user_tokens["access_token"], web_client) == INACTIVE


# --- Own tokens -------------------------------------------------------------------------------


def test_a_machine_introspects_its_own_token(confidential_client, timesheets_api):
    body = _introspect(_machine_token(confidential_client, timesheets_api), confidential_client)
    assert body["active"] is True
    assert body["client_id"] == confidential_client[0].client_id


def test_a_web_app_introspects_its_own_users_token(web_client, user_client, user, timesheets_api):
    client, secret = web_client
    code = web_code(user_client, client.client_id, scope="openid read:timesheets", audience=TIMESHEETS_API)
    tokens = web_exchange(client.client_id, secret, code).json()
    body = _introspect(tokens["access_token"], web_client)
    assert body["active"] is True
    assert body["client_id"] == client.client_id
    assert body["username"] == user.email
    # The token's own audience: the API, and /userinfo for the openid scope.
    assert body["aud"] == [TIMESHEETS_API, "http://testserver/userinfo"]


# --- Allowed for an API -----------------------------------------------------------------------


def test_a_client_allowed_for_an_api_introspects_its_tokens(
    user_tokens, public_client, confidential_client, timesheets_api, user
):
    client_introspection_set(client=confidential_client[0], api=timesheets_api, allowed=True)
    body = _introspect(user_tokens["access_token"], confidential_client)
    assert body["active"] is True
    assert body["client_id"] == public_client.client_id
    assert body["username"] == user.email
    assert "read:timesheets" in body["scope"].split()


def test_the_permission_covers_that_api_only(
    public_client, user_client, confidential_client, other_confidential_client, timesheets_api, hs256_api
):
    client_introspection_set(client=confidential_client[0], api=timesheets_api, allowed=True)
    reports = sign_in(
        user_client, public_client.client_id, scope="read:reports", audience=hs256_api.identifier
    )
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope="openid profile", audience=None)
    userinfo_only = exchange(user_client, public_client.client_id, code, pkce.verifier).json()
    machine_for_reports = _machine_token(other_confidential_client, hs256_api)
    machine_for_timesheets = _machine_token(other_confidential_client, timesheets_api)
    assert _introspect(reports["access_token"], confidential_client) == INACTIVE
    assert _introspect(userinfo_only["access_token"], confidential_client) == INACTIVE
    assert _introspect(machine_for_reports, confidential_client) == INACTIVE
    assert _introspect(machine_for_timesheets, confidential_client)["active"] is True


def test_withdrawing_the_permission_ends_it(user_tokens, confidential_client, timesheets_api, staff_user):
    client = confidential_client[0]
    client_introspection_set(client=client, api=timesheets_api, allowed=True, actor=staff_user)
    client_introspection_set(client=client, api=timesheets_api, allowed=False, actor=staff_user)
    assert _introspect(user_tokens["access_token"], confidential_client) == INACTIVE
    actions = list(
        AuditEntry.objects.filter(target_id=str(client.pk)).values_list("action", "before", "after")
    )
    assert ("client.introspection_allow", None, {"api": TIMESHEETS_API}) in actions
    assert ("client.introspection_deny", {"api": TIMESHEETS_API}, None) in actions


def test_setting_the_permission_twice_changes_and_audits_once(confidential_client, timesheets_api):
    client = confidential_client[0]
    client_introspection_set(client=client, api=timesheets_api, allowed=True)
    client_introspection_set(client=client, api=timesheets_api, allowed=True)
    assert list(client.may_introspect.all()) == [timesheets_api]
    assert AuditEntry.objects.filter(action="client.introspection_allow").count() == 1


def test_only_a_confidential_client_may_be_allowed(public_client, timesheets_api):
    # A public client cannot authenticate, so it could never use the permission.
    with pytest.raises(ValidationError):
        client_introspection_set(client=public_client, api=timesheets_api, allowed=True)
    assert not public_client.may_introspect.exists()


def test_a_refresh_token_is_inactive_even_to_its_own_client(web_client, user_client, timesheets_api):
    client, secret = web_client
    code = web_code(
        user_client, client.client_id, scope="openid offline_access read:timesheets", audience=TIMESHEETS_API
    )
    tokens = web_exchange(client.client_id, secret, code).json()
    assert "refresh_token" in tokens
    assert _introspect(tokens["refresh_token"], web_client) == INACTIVE


def test_the_applications_apis_tab_shows_what_it_may_introspect(
    staff_client, confidential_client, public_client, timesheets_api
):
    client = confidential_client[0]
    page = staff_client.get(f"/dashboard/applications/{client.pk}/?tab=apis")
    assert page.status_code == HTTPStatus.OK
    assert "sees its own tokens only" in page.content.decode()
    client_introspection_set(client=client, api=timesheets_api, allowed=True)
    content = staff_client.get(f"/dashboard/applications/{client.pk}/?tab=apis").content.decode()
    assert 'id="introspection"' in content
    assert "and the access tokens for:" in content
    assert f"<code>{TIMESHEETS_API}</code>" in content
    # A public application cannot authenticate there: nothing to show.
    public = staff_client.get(f"/dashboard/applications/{public_client.pk}/?tab=apis").content.decode()
    assert 'id="introspection"' not in public
