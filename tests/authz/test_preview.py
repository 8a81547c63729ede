"""The token preview tells what the token endpoint really issues, scope by scope."""

from __future__ import annotations

import jwt
import pytest

from apis.services import api_update
from authz.preview import token_preview
from authz.services import role_assign, role_create, role_set_permissions
from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, Pkce, client_credentials, exchange, get_code

pytestmark = pytest.mark.django_db
VOLATILE = {"iat", "exp", "jti", "gid"}  # per token or per grant: nothing to preview


@pytest.fixture
def rbac_user(user, timesheets_api):
    api_update(api=timesheets_api, rbac_enabled=True)
    role = role_create(actor=None, name="Timesheet User")
    role_set_permissions(
        actor=None, role=role, permissions=timesheets_api.scopes.filter(value="read:timesheets")
    )
    role_assign(actor=None, role=role, user=user)
    return user


def test_preview_matches_the_issued_user_token(public_client, rbac_user, user_client, timesheets_api):
    requested = ["openid", "offline_access", "read:timesheets", "approve:timesheets", "nope:x"]
    preview = token_preview(user=rbac_user, client=public_client, api=timesheets_api, requested=requested)

    assert [(d.scope, d.granted) for d in preview.decisions] == [
        ("openid", True),
        ("offline_access", True),
        ("read:timesheets", True),
        ("approve:timesheets", False),
        ("nope:x", False),
    ]
    reasons = {d.scope: d.reason for d in preview.decisions}
    assert reasons["read:timesheets"] == "role Timesheet User"
    assert reasons["approve:timesheets"] == "not a permission of the user"
    assert reasons["nope:x"] == "Timesheets API has no such scope"

    pkce = Pkce.new()
    code = get_code(
        user_client, public_client.client_id, pkce, scope=" ".join(requested), audience=TIMESHEETS_API
    )
    issued = exchange(user_client, public_client.client_id, code, pkce.verifier).json()
    claims = jwt.decode(issued["access_token"], options={"verify_signature": False})
    assert preview.access_token is not None
    assert {k: v for k, v in claims.items() if k not in VOLATILE} == {
        k: v for k, v in preview.access_token.items() if k not in VOLATILE
    }
    assert preview.refresh_token is ("refresh_token" in issued)


def test_preview_matches_the_machine_token(confidential_client, timesheets_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    preview = token_preview(
        user=None, client=client, api=timesheets_api, requested=["read:timesheets", "openid"]
    )
    assert [(d.scope, d.granted) for d in preview.decisions] == [("read:timesheets", True), ("openid", False)]

    issued = client_credentials(
        client.client_id, secret, audience=TIMESHEETS_API, scope="read:timesheets openid"
    )
    claims = jwt.decode(issued.json()["access_token"], options={"verify_signature": False})
    assert preview.access_token is not None
    assert {k: v for k, v in claims.items() if k not in VOLATILE} == {
        k: v for k, v in preview.access_token.items() if k not in VOLATILE
    }


def test_preview_explains_a_missing_client_grant(confidential_client, timesheets_api):
    client, _ = confidential_client
    preview = token_preview(user=None, client=client, api=timesheets_api, requested=["read:timesheets"])
    assert preview.access_token is None
    assert preview.denied is not None
    assert "not authorized" in preview.denied


def test_preview_shows_a_rule_denial(public_client, user, timesheets_api):
    user.is_active = False
    user.save()
    preview = token_preview(user=user, client=public_client, api=timesheets_api, requested=["openid"])
    assert preview.denied == "A rule denied the request: This account is deactivated."
    assert preview.access_token is None
