"""The Rules and Token preview pages of the staff dashboard."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from accounts.models import AuditEntry
from apis.services import api_update
from authz.models import RuleSetting
from authz.rules import registered_rules
from authz.services import role_assign, role_create, role_set_permissions

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/"}
DENY = "authz.rules.deny_deactivated_users"
ROLES_AND_GROUPS = "authz.rules.add_roles_and_groups"


@pytest.fixture
def rules() -> dict[str, RuleSetting]:
    return {rule.path: rule for rule in registered_rules()}


def _order() -> list[str]:
    return [rule.path for rule in registered_rules()]


def test_pages_are_for_staff_only(user_client, rules):
    pk = rules[DENY].pk
    for method, path in [
        ("get", "/dashboard/rules/"),
        ("post", f"/dashboard/rules/{pk}/"),
        ("get", "/dashboard/preview/"),
    ]:
        response = getattr(HttpClient(), method)(path, {"action": "disable"})
        assert response.status_code == HTTPStatus.FOUND, path
        assert response["Location"].startswith("/login/?next="), path
        assert getattr(user_client, method)(path, {"action": "disable"}).status_code == HTTPStatus.FORBIDDEN
    assert RuleSetting.objects.get(path=DENY).enabled is True
    assert not AuditEntry.objects.filter(action="rule.update").exists()


# --- Rules --------------------------------------------------------------------------------------


def test_rules_are_listed_in_run_order_with_what_they_do(staff_client, rules):
    response = staff_client.get("/dashboard/rules/")

    assert response.status_code == HTTPStatus.OK
    assert [row.setting.path for row in response.context["rules"]] == [DENY, ROLES_AND_GROUPS]
    content = response.content.decode()
    assert "Add the user&#x27;s roles and groups (nested ones included) as namespaced claims." in content
    assert "A deactivated user gets no token, not even by refreshing one issued before." in content
    assert content.index(DENY) < content.index(ROLES_AND_GROUPS)


def test_switching_a_rule_off_persists_and_is_audited(staff_client, staff_user, rules):
    url = f"/dashboard/rules/{rules[ROLES_AND_GROUPS].pk}/"
    response = staff_client.post(url, {"action": "disable"}, **HTMX)

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "<html" not in content
    assert "“add_roles_and_groups” disabled." in content
    assert 'aria-checked="false"' in content
    assert RuleSetting.objects.get(path=ROLES_AND_GROUPS).enabled is False
    entry = AuditEntry.objects.get(action="rule.update")
    assert entry.actor == staff_user
    assert (entry.before, entry.after) == (
        {"enabled": True, "position": 1},
        {"enabled": False, "position": 1},
    )

    response = staff_client.post(url, {"action": "enable"})
    assert response.status_code == HTTPStatus.FOUND
    assert RuleSetting.objects.get(path=ROLES_AND_GROUPS).enabled is True


def test_moving_a_rule_reorders_them_and_is_audited(staff_client, staff_user, rules):
    response = staff_client.post(f"/dashboard/rules/{rules[DENY].pk}/", {"action": "down"}, follow=True)

    assert response.redirect_chain == [("/dashboard/rules/", HTTPStatus.FOUND)]
    assert "“deny_deactivated_users” moved down." in response.content.decode()
    assert _order() == [ROLES_AND_GROUPS, DENY]
    moves = []
    for entry in AuditEntry.objects.filter(action="rule.update", actor=staff_user):
        assert entry.after is not None
        moves.append((entry.target_label, entry.after["position"]))
    assert sorted(moves) == [
        (ROLES_AND_GROUPS, 0),
        (DENY, 1),
    ]

    response = staff_client.post(f"/dashboard/rules/{rules[DENY].pk}/", {"action": "up"}, **HTMX)
    assert _order() == [DENY, ROLES_AND_GROUPS]
    assert "<html" not in response.content.decode()


def test_a_rule_cannot_move_past_the_ends(staff_client, rules):
    response = staff_client.post(f"/dashboard/rules/{rules[DENY].pk}/", {"action": "up"}, **HTMX)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "“deny_deactivated_users” is already first." in response.content.decode()
    response = staff_client.post(f"/dashboard/rules/{rules[DENY].pk}/", {"action": "explode"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert _order() == [DENY, ROLES_AND_GROUPS]
    assert not AuditEntry.objects.filter(action="rule.update").exists()


def test_unknown_or_unregistered_rules_are_404(staff_client, rules, settings):
    response = staff_client.post("/dashboard/rules/999999/", {"action": "disable"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    settings.AUTHZ_RULES = [DENY]
    response = staff_client.post(f"/dashboard/rules/{rules[ROLES_AND_GROUPS].pk}/", {"action": "disable"})
    assert response.status_code == HTTPStatus.NOT_FOUND


# --- Token preview ------------------------------------------------------------------------------


@pytest.fixture
def rbac_user(user, timesheets_api):
    api_update(api=timesheets_api, rbac_enabled=True)
    role = role_create(actor=None, name="Timesheet User")
    role_set_permissions(
        actor=None, role=role, permissions=timesheets_api.scopes.filter(value="read:timesheets")
    )
    role_assign(actor=None, role=role, user=user)
    return user


def test_preview_form_starts_empty(staff_client, public_client, timesheets_api):
    response = staff_client.get("/dashboard/preview/")

    assert response.status_code == HTTPStatus.OK
    assert "preview" not in response.context
    content = response.content.decode()
    assert "none (userinfo only)" in content
    assert "Timesheets Mobile (test) (Native)" in content


def test_preview_explains_each_scope_for_a_user(staff_client, rbac_user, public_client, timesheets_api):
    query = {
        "user": rbac_user.pk,
        "client": public_client.pk,
        "api": timesheets_api.pk,
        "scopes": "openid email offline_access read:timesheets approve:timesheets",
    }

    response = staff_client.get("/dashboard/preview/", query, **HTMX)

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "<html" not in content
    assert "HX-Request" in response["Vary"]
    rows = [(d.scope, d.granted, d.reason) for d in response.context["preview"].decisions]
    assert rows[3:] == [
        ("read:timesheets", True, "role Timesheet User"),
        ("approve:timesheets", False, "not a permission of the user"),
    ]
    assert "<td>role Timesheet User</td>" in content
    assert "<td>not a permission of the user</td>" in content
    assert "✗</span> dropped" in content
    assert "Yes: offline_access was granted" in content
    assert "&quot;scope&quot;: &quot;openid email offline_access read:timesheets&quot;" in content
    assert "&quot;email&quot;: &quot;alice@abcinc.example&quot;" in content  # the ID token
    assert 'id="id-token-claims"' in content


def test_preview_shows_the_denial_for_a_machine_client_without_grant(
    staff_client, confidential_client, timesheets_api
):
    client, _ = confidential_client
    query = {"client": client.pk, "api": timesheets_api.pk, "scopes": "read:timesheets"}

    response = staff_client.get("/dashboard/preview/", query)

    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert (
        "<strong>Denied:</strong> Timesheets Batch (test) is not authorized to call "
        "https://timesheets.abcinc.example/api: access_denied."
    ) in content
    assert 'id="access-token-claims"' not in content


def test_preview_bad_ids_are_inline_errors(staff_client, public_client, timesheets_api):
    query = {"user": "999999", "client": "nope", "api": "424242", "scopes": "openid"}

    response = staff_client.get("/dashboard/preview/", query, **HTMX)

    assert response.status_code == HTTPStatus.OK
    assert "preview" not in response.context
    content = response.content.decode()
    for field in ("user", "client", "api"):
        assert f'id="id_{field}_error">Select a valid choice.' in content, field
    response = staff_client.get("/dashboard/preview/", {"client": ""})
    assert 'id="id_client_error">This field is required.' in response.content.decode()
