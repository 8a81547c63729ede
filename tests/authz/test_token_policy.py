"""Tokens carry only what the user may do; rules customize them or deny, for every grant."""

from __future__ import annotations

from http import HTTPStatus

import jwt
import pytest
from django.test import Client as HttpClient

from apis.services import api_update
from authz.models import RuleSetting
from authz.rules import registered_rules
from authz.services import (
    consent_revoke,
    group_add_member,
    group_add_role,
    group_create,
    role_assign,
    role_create,
    role_set_permissions,
    role_unassign,
)
from clients.services import client_grant_set
from tests.oauth import (
    TIMESHEETS_API,
    Pkce,
    authorize_url,
    client_credentials,
    exchange,
    get_code,
    redirect_params,
)

from . import rules_for_tests

pytestmark = pytest.mark.django_db
NS = "https://abcinc.example/"


@pytest.fixture
def rbac_api(timesheets_api):
    return api_update(api=timesheets_api, rbac_enabled=True, add_permissions_claim=True)


@pytest.fixture
def timesheet_user(rbac_api):
    scopes = {scope.value: scope for scope in rbac_api.scopes.all()}
    role = role_create(actor=None, name="Timesheet User")
    role_set_permissions(
        actor=None, role=role, permissions=[scopes["read:timesheets"], scopes["create:timesheets"]]
    )
    return role


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _login_tokens(http, client, scope: str) -> dict:
    pkce = Pkce.new()
    code = get_code(http, client.client_id, pkce, scope=scope, audience=TIMESHEETS_API)
    response = exchange(http, client.client_id, code, pkce.verifier)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _refresh(client, token: str):
    return HttpClient().post(
        "/oauth/token", {"grant_type": "refresh_token", "refresh_token": token, "client_id": client.client_id}
    )


def test_a_user_never_gets_a_scope_they_do_not_hold(
    public_client, user, user_client, rbac_api, timesheet_user
):
    role_assign(actor=None, role=timesheet_user, user=user)
    body = _login_tokens(
        user_client, public_client, "openid offline_access read:timesheets approve:timesheets"
    )
    claims = _claims(body["access_token"])
    assert claims["scope"] == "openid offline_access read:timesheets"
    assert claims["permissions"] == ["create:timesheets", "read:timesheets"]


def test_the_consent_screen_shows_only_what_will_be_granted(
    public_client, user, user_client, rbac_api, timesheet_user
):
    role_assign(actor=None, role=timesheet_user, user=user)
    url = authorize_url(
        public_client.client_id,
        Pkce.new(),
        audience=TIMESHEETS_API,
        scope="openid read:timesheets approve:timesheets",
    )
    page = user_client.get(url)
    assert page.context["scopes"] == ["openid", "read:timesheets"]
    assert b"Read your timesheets" in page.content
    assert b"Approve" not in page.content


def test_a_role_removed_after_sign_in_is_gone_at_refresh(
    public_client, user, user_client, rbac_api, timesheet_user
):
    role_assign(actor=None, role=timesheet_user, user=user)
    body = _login_tokens(
        user_client, public_client, "openid offline_access read:timesheets create:timesheets"
    )
    assert "create:timesheets" in _claims(body["access_token"])["scope"]

    role_unassign(actor=None, role=timesheet_user, user=user)
    refreshed = _refresh(public_client, body["refresh_token"])
    assert refreshed.status_code == HTTPStatus.OK
    claims = _claims(refreshed.json()["access_token"])
    assert claims["scope"] == "openid offline_access"
    assert claims["permissions"] == []
    assert refreshed.json()["scope"] == "openid offline_access"


def test_permissions_come_through_groups_too(public_client, user, user_client, rbac_api, timesheet_user):
    staff = group_create(actor=None, name="All Staff")
    group_add_role(actor=None, group=staff, role=timesheet_user)
    group_add_member(actor=None, group=staff, user=user)
    body = _login_tokens(user_client, public_client, "openid read:timesheets")
    assert _claims(body["access_token"])["scope"] == "openid read:timesheets"


# --- Rules ------------------------------------------------------------------------------------


@pytest.fixture
def with_rules(settings):
    def install(*names: str) -> None:
        settings.AUTHZ_RULES = [
            *settings.AUTHZ_RULES,
            *(f"tests.authz.rules_for_tests.{name}" for name in names),
        ]

    rules_for_tests.SEEN.clear()
    return install


def test_rules_see_the_protocol_of_each_grant(
    with_rules, public_client, user_client, confidential_client, timesheets_api
):
    with_rules("record_protocol")
    body = _login_tokens(user_client, public_client, "openid offline_access read:timesheets")
    assert _claims(body["access_token"])[f"{NS}protocol"] == "oidc-basic-profile"
    assert _claims(body["id_token"])[f"{NS}protocol"] == "oidc-basic-profile"

    refreshed = _refresh(public_client, body["refresh_token"]).json()
    assert _claims(refreshed["access_token"])[f"{NS}protocol"] == "oauth2-refresh-token"

    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    machine = client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()
    assert _claims(machine["access_token"])[f"{NS}protocol"] == "oauth2-client-credentials"
    # The code flow's rules run at /authorize (the consent screen, then its answer) and again
    # at the token endpoint.
    assert [
        *["oidc-basic-profile"] * 3,
        "oauth2-refresh-token",
        "oauth2-client-credentials",
    ] == rules_for_tests.SEEN


def test_roles_and_groups_are_added_as_namespaced_claims(
    public_client, user, user_client, timesheets_api, timesheet_user
):
    staff = group_create(actor=None, name="All Staff")
    group_add_role(actor=None, group=staff, role=timesheet_user)
    group_add_member(actor=None, group=staff, user=user)
    body = _login_tokens(user_client, public_client, "openid read:timesheets")
    for token in (body["access_token"], body["id_token"]):
        claims = _claims(token)
        assert claims[f"{NS}roles"] == ["Timesheet User"]
        assert claims[f"{NS}groups"] == ["All Staff"]


@pytest.mark.parametrize("rule", ["explode", "unnamespaced"])
def test_a_failing_rule_denies_and_issues_nothing(
    with_rules, public_client, user_client, timesheets_api, rule
):
    pkce = Pkce.new()
    code = get_code(
        user_client, public_client.client_id, pkce, scope="openid read:timesheets", audience=TIMESHEETS_API
    )
    with_rules(rule)  # between the code and its exchange: the token endpoint checks again
    response = exchange(user_client, public_client.client_id, code, pkce.verifier)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "access_denied"
    assert "rule failed" in response.json()["error_description"]
    assert "access_token" not in response.json()

    again = user_client.get(authorize_url(public_client.client_id, Pkce.new(), audience=TIMESHEETS_API))
    assert redirect_params(again)["error"] == "access_denied"  # and at /authorize: no code
    assert "rule failed" in redirect_params(again)["error_description"]
    assert "code" not in redirect_params(again)


def test_a_rule_can_deny_with_its_message(with_rules, public_client, user, user_client, timesheets_api):
    with_rules("deny_contractors")
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, audience=TIMESHEETS_API)
    user.worker_type = "contractor"  # after the code: the token endpoint checks again
    user.save()
    response = exchange(user_client, public_client.client_id, code, pkce.verifier)
    assert response.json() == {
        "error": "access_denied",
        "error_description": "Contractors cannot use this application.",
    }

    again = user_client.get(authorize_url(public_client.client_id, Pkce.new(), audience=TIMESHEETS_API))
    assert redirect_params(again)["error"] == "access_denied"  # and at /authorize: no code
    assert redirect_params(again)["error_description"] == "Contractors cannot use this application."
    assert "code" not in redirect_params(again)


def test_a_disabled_rule_does_not_run(with_rules, public_client, user, user_client, timesheets_api):
    with_rules("deny_contractors")
    user.worker_type = "contractor"
    user.save()
    for rule in registered_rules():
        if rule.path.endswith("deny_contractors"):
            rule.enabled = False
            rule.save()
    assert RuleSetting.objects.filter(enabled=False).count() == 1
    body = _login_tokens(user_client, public_client, "openid read:timesheets")
    assert body["access_token"]


def test_a_deactivated_user_cannot_refresh(public_client, user, user_client, timesheets_api):
    body = _login_tokens(user_client, public_client, "openid offline_access read:timesheets")
    user.is_active = False
    user.save()
    response = _refresh(public_client, body["refresh_token"])
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"error": "access_denied", "error_description": "This account is deactivated."}


# --- Consent ----------------------------------------------------------------------------------


def test_consent_is_remembered_per_scope_set(public_client, user, user_client, timesheets_api):
    scope = "openid read:timesheets"
    _login_tokens(user_client, public_client, scope)  # asked, allowed
    again = user_client.get(
        authorize_url(public_client.client_id, Pkce.new(), audience=TIMESHEETS_API, scope=scope)
    )
    assert again.status_code == HTTPStatus.FOUND
    assert redirect_params(again)["code"]

    more = user_client.get(
        authorize_url(
            public_client.client_id, Pkce.new(), audience=TIMESHEETS_API, scope=f"{scope} create:timesheets"
        )
    )
    assert more.status_code == HTTPStatus.OK  # a new scope: asked again

    consent_revoke(actor=user, consent=user.consents.get())
    asked = user_client.get(
        authorize_url(public_client.client_id, Pkce.new(), audience=TIMESHEETS_API, scope=scope)
    )
    assert asked.status_code == HTTPStatus.OK
