"""/api/v2/rules and /api/v2/token-preview: the rules' switches and order, and what a token
would say, through the dashboard's services and the token endpoint's own policy."""

from __future__ import annotations

from http import HTTPStatus

import jwt
import pytest

from accounts.models import AuditEntry
from apis.services import api_update
from authz.models import RuleSetting
from authz.rules import registered_rules
from authz.services import role_assign, role_create, role_set_permissions
from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, client_credentials

from .conftest import ALL_SCOPES
from .test_roles import call

DENY = "authz.rules.deny_deactivated_users"
ROLES_AND_GROUPS = "authz.rules.add_roles_and_groups"
RECORD = "tests.authz.rules_for_tests.record_protocol"
PROTOCOL_CLAIM = "https://abcinc.example/protocol"
VOLATILE = {"iat", "exp", "jti", "gid"}


@pytest.fixture
def three_rules(settings) -> list[str]:
    settings.AUTHZ_RULES = [DENY, ROLES_AND_GROUPS, RECORD]
    return list(settings.AUTHZ_RULES)


def _order() -> list[str]:
    return [rule.path for rule in registered_rules()]


OPERATIONS = [
    ("GET", "rules", "read:rules"),
    ("GET", f"rules/{DENY}", "read:rules"),
    ("PATCH", f"rules/{DENY}", "update:rules"),
    ("POST", "token-preview", "read:rules"),
]


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_each_operation_needs_its_scope(machine_token, method, path, scope):
    caller = machine_token(*(other for other in ALL_SCOPES if other != scope))

    response = call(caller, method, path)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert f'error="insufficient_scope", scope="{scope}"' in response["WWW-Authenticate"]


def test_rules_are_listed_in_run_order_with_what_they_do(admin_api, three_rules):
    response = admin_api.get("rules")

    assert response.status_code == HTTPStatus.OK
    assert response["ETag"]
    assert response.json() == [
        {
            "path": DENY,
            "name": "deny_deactivated_users",
            "description": "A deactivated user gets no token, not even by refreshing one issued before.",
            "enabled": True,
            "position": 0,
        },
        {
            "path": ROLES_AND_GROUPS,
            "name": "add_roles_and_groups",
            "description": "Add the user's roles and groups (nested ones included) as namespaced claims.",
            "enabled": True,
            "position": 1,
        },
        {
            "path": RECORD,
            "name": "record_protocol",
            "description": "No description: give the function a docstring.",
            "enabled": True,
            "position": 2,
        },
    ]
    read = admin_api.get(f"rules/{RECORD}")
    assert read.json() == response.json()[2]


def test_switching_a_rule_off_is_audited_and_reaches_the_token_endpoint(
    admin_api, three_rules, confidential_client, timesheets_api
):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])

    def claims() -> dict:
        token = client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()["access_token"]
        return jwt.decode(token, options={"verify_signature": False})

    assert PROTOCOL_CLAIM in claims()

    response = admin_api.patch(f"rules/{RECORD}", {"enabled": False})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["enabled"] is False
    assert PROTOCOL_CLAIM not in claims()
    entry = AuditEntry.objects.get(action="rule.update")
    assert entry.actor_label == f"client:{admin_api.client_id}"
    assert (entry.before, entry.after) == (
        {"enabled": True, "position": 2},
        {"enabled": False, "position": 2},
    )


def test_moving_a_rule_keeps_the_others_in_order(admin_api, three_rules):
    moved = admin_api.patch(f"rules/{RECORD}", {"position": 0, "enabled": False})

    assert moved.status_code == HTTPStatus.OK
    assert moved.json()["position"] == 0
    assert _order() == [RECORD, DENY, ROLES_AND_GROUPS]
    assert RuleSetting.objects.get(path=RECORD).enabled is False
    assert [entry["path"] for entry in admin_api.get("rules").json()] == _order()
    back = admin_api.patch(f"rules/{RECORD}", {"position": 1})
    assert back.json() == {**moved.json(), "position": 1}
    assert _order() == [DENY, RECORD, ROLES_AND_GROUPS]
    assert AuditEntry.objects.filter(actor_label=f"client:{admin_api.client_id}").exists()


def test_a_position_past_the_end_is_400_and_nothing_moves(admin_api, three_rules):
    response = admin_api.patch(f"rules/{DENY}", {"position": 3, "enabled": False})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["pointer"] == "#/position"
    assert _order() == three_rules
    assert RuleSetting.objects.get(path=DENY).enabled is True


def test_a_stale_etag_is_412(admin_api, three_rules):
    etag = admin_api.get(f"rules/{DENY}")["ETag"]
    assert (
        admin_api.patch(f"rules/{DENY}", {"enabled": False}, **{"If-Match": etag}).status_code
        == HTTPStatus.OK
    )

    stale = admin_api.patch(f"rules/{DENY}", {"enabled": True}, **{"If-Match": etag})

    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert RuleSetting.objects.get(path=DENY).enabled is False


def test_unknown_and_unregistered_rules_are_404(admin_api, settings):
    registered_rules()
    settings.AUTHZ_RULES = [DENY]

    for path in ("rules/authz.rules.nope", f"rules/{ROLES_AND_GROUPS}"):
        assert admin_api.get(path).status_code == HTTPStatus.NOT_FOUND
        assert admin_api.patch(path, {"enabled": False}).status_code == HTTPStatus.NOT_FOUND
    assert RuleSetting.objects.get(path=ROLES_AND_GROUPS).enabled is True


def test_unknown_fields_are_400(admin_api):
    response = admin_api.patch(f"rules/{DENY}", {"on": False})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == [{"pointer": "#/on", "detail": "This field is not known."}]


# --- Token preview ----------------------------------------------------------------------------


@pytest.fixture
def rbac_user(user, timesheets_api):
    api_update(api=timesheets_api, rbac_enabled=True)
    role = role_create(actor=None, name="Timesheet User")
    role_set_permissions(
        actor=None, role=role, permissions=timesheets_api.scopes.filter(value="read:timesheets")
    )
    role_assign(actor=None, role=role, user=user)
    return user


def test_the_preview_explains_each_scope_for_a_person(admin_api, rbac_user, public_client, timesheets_api):
    response = admin_api.post(
        "token-preview",
        {
            "user_id": str(rbac_user.sub),
            "client_id": public_client.client_id,
            "audience": TIMESHEETS_API,
            "scopes": "openid read:timesheets approve:timesheets",
        },
    )

    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert body["denied"] is None
    assert body["decisions"] == [
        {"scope": "openid", "granted": True, "reason": body["decisions"][0]["reason"]},
        {"scope": "read:timesheets", "granted": True, "reason": "role Timesheet User"},
        {"scope": "approve:timesheets", "granted": False, "reason": "not a permission of the user"},
    ]
    assert body["access_token"]["sub"] == str(rbac_user.sub)
    assert body["access_token"]["scope"] == "openid read:timesheets"
    assert body["access_token"]["https://abcinc.example/roles"] == ["Timesheet User"]
    assert body["id_token"]["aud"] == public_client.client_id
    assert body["refresh_token"] is False


def test_the_preview_of_a_machine_token_matches_the_issued_one(
    admin_api, confidential_client, timesheets_api
):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    issued = client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()["access_token"]

    body = admin_api.post("token-preview", {"client_id": client.client_id, "audience": TIMESHEETS_API}).json()

    claims = jwt.decode(issued, options={"verify_signature": False})
    assert {k: v for k, v in body["access_token"].items() if k not in VOLATILE} == {
        k: v for k, v in claims.items() if k not in VOLATILE
    }
    assert body["id_token"] is None


def test_the_preview_says_why_no_token_would_be_issued(admin_api, confidential_client, timesheets_api):
    client, _ = confidential_client

    no_grant = admin_api.post("token-preview", {"client_id": client.client_id, "audience": TIMESHEETS_API})
    no_audience = admin_api.post("token-preview", {"client_id": client.client_id})

    assert no_grant.status_code == no_audience.status_code == HTTPStatus.OK
    assert no_grant.json()["denied"].endswith("access_denied.")
    assert no_grant.json()["access_token"] is None
    assert no_audience.json()["denied"] == "A machine client must name an audience."


def test_the_preview_refuses_unknown_references_with_their_pointer(admin_api, public_client, user):
    # A name of nothing is 404 (as Auth0 answers it); a malformed body is 400.
    for body, pointer, status in [
        ({"client_id": "nope"}, "#/client_id", HTTPStatus.NOT_FOUND),
        (
            {"client_id": public_client.client_id, "user_id": "7f0e1c5e-0000-4000-8000-000000000000"},
            "#/user_id",
            HTTPStatus.NOT_FOUND,
        ),
        (
            {"client_id": public_client.client_id, "audience": "https://nope.example/"},
            "#/audience",
            HTTPStatus.NOT_FOUND,
        ),
        ({"client_id": public_client.client_id, "scope": "openid"}, "#/scope", HTTPStatus.BAD_REQUEST),
        ({}, "#/client_id", HTTPStatus.BAD_REQUEST),
    ]:
        response = admin_api.post("token-preview", body)
        assert response.status_code == status, body
        assert response.json()["errors"][0]["pointer"] == pointer
