"""Confirmation of one-way dashboard actions (issue 17, point 4): rotating the server's
signing keys says it is global, switching off ``deny_deactivated_users`` says how many
people and live grants it lets through; neither happens without the ticked box.
(Removing a role or member from a group: tests/authz/test_permission_loss_preview.py.)"""

from __future__ import annotations

import html
import secrets
import uuid
from http import HTTPStatus
from typing import Any

import pytest
from oauth2_provider.models import get_refresh_token_model

from accounts.models import AuditEntry, User
from apis.models import Api, SigningKey
from apis.services import api_create
from authz.models import RuleSetting
from authz.rules import registered_rules

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/rules/",
}
DENY = "authz.rules.deny_deactivated_users"
ROLES_AND_GROUPS = "authz.rules.add_roles_and_groups"


def _content(response) -> str:
    # Whitespace as a reader sees it: the templates wrap their sentences.
    return " ".join(html.unescape(response.content.decode()).split())


# --- Signing keys --------------------------------------------------------------------------------


@pytest.fixture
def apis(timesheets_api, hs256_api) -> list[Api]:
    es256 = api_create(identifier="https://fast.abcinc.example/", name="Fast API", signing_algorithm="ES256")
    return [timesheets_api, hs256_api, es256]


def test_the_signing_tab_says_the_keys_are_global(staff_client, apis):
    timesheets, _, _ = apis
    page = _content(staff_client.get(f"/dashboard/apis/{timesheets.pk}/?tab=signing"))
    assert "The signing keys are the server's, not this API's." in page
    # Every API that signs with them is named (the Management API too); the HS256 one is not.
    assert "all 3 APIs that sign with them (ABC Identity Management API, Fast API, Timesheets API)" in page
    assert "Reports API" not in page.split('id="signing-key-rotate"')[1]
    assert "for every API that uses them, not only this one" in page  # the box to tick
    assert f'action="/dashboard/apis/{timesheets.pk}/signing/key/rotate/"' in page


def test_rotating_without_the_box_ticked_changes_nothing(staff_client, apis):
    timesheets, _, _ = apis
    staff_client.get(f"/dashboard/apis/{timesheets.pk}/?tab=signing")  # the first keys are made on demand
    before = set(SigningKey.objects.values_list("kid", flat=True))
    assert before
    for data in ({}, {"confirm": ""}):
        response = staff_client.post(f"/dashboard/apis/{timesheets.pk}/signing/key/rotate/", data)
        assert response.status_code == HTTPStatus.OK
        assert "This field is required." in _content(response)
        assert "The signing keys are the server's, not this API's." in _content(response)
    assert set(SigningKey.objects.values_list("kid", flat=True)) == before
    assert not AuditEntry.objects.filter(action="signing_key.rotate").exists()

    response = staff_client.post(f"/dashboard/apis/{timesheets.pk}/signing/key/rotate/", {"confirm": "on"})
    assert response.status_code == HTTPStatus.FOUND
    assert set(SigningKey.objects.filter(retired_at__isnull=True).values_list("kid", flat=True)).isdisjoint(
        before
    )
    assert AuditEntry.objects.filter(action="signing_key.rotate").exists()


def test_an_auditor_cannot_rotate_even_with_the_box_ticked(auditor_client, apis):
    before = SigningKey.objects.count()
    response = auditor_client.post(f"/dashboard/apis/{apis[0].pk}/signing/key/rotate/", {"confirm": "on"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert SigningKey.objects.count() == before


# --- Switching off deny_deactivated_users --------------------------------------------------------


@pytest.fixture
def rules() -> dict[str, RuleSetting]:
    return {rule.path: rule for rule in registered_rules()}


@pytest.fixture
def deactivated(user, public_client, password) -> None:
    """Two deactivated people: one holds two live grants (one of them with two refresh
    tokens) and a revoked one; Alice, active, holds one that does not count."""
    RefreshToken = get_refresh_token_model()

    def refresh(person: User, family: uuid.UUID, *, revoked: bool = False) -> None:
        RefreshToken.objects.create(
            user=person,
            application=public_client,
            token=secrets.token_urlsafe(),
            token_family=family,
            revoked="2026-01-01T00:00:00Z" if revoked else None,
        )

    bob = User.objects.create_user(email="bob@abcinc.example", password=password, is_active=False)
    User.objects.create_user(email="carol@abcinc.example", password=password, is_active=False)
    first = uuid.uuid4()
    refresh(bob, first)
    refresh(bob, first)
    refresh(bob, uuid.uuid4())
    refresh(bob, uuid.uuid4(), revoked=True)
    refresh(user, uuid.uuid4())


def test_switching_deny_deactivated_users_off_says_what_it_lets_through(staff_client, rules, deactivated):
    url = f"/dashboard/rules/{rules[DENY].pk}/"
    response = staff_client.post(url, {"action": "disable"})
    assert response.status_code == HTTPStatus.OK
    page = _content(response)
    assert "Switch off “deny_deactivated_users”?" in page
    assert "Today 2 deactivated people hold 2 live grants that would work again." in page
    assert "I understand what switching this rule off lets through." in page
    assert 'name="step" value="confirm"' in page
    assert RuleSetting.objects.get(path=DENY).enabled is True

    # With htmx: the rules' fragment with the step in it, the rule still on.
    fragment = _content(staff_client.post(url, {"action": "disable"}, **HTMX))
    assert "<html" not in fragment and "2 live grants" in fragment
    # The step sent back without the box ticked: still nothing.
    unticked = _content(staff_client.post(url, {"action": "disable", "step": "confirm"}))
    assert "This field is required." in unticked
    assert RuleSetting.objects.get(path=DENY).enabled is True
    assert not AuditEntry.objects.filter(action="rule.update").exists()

    response = staff_client.post(url, {"action": "disable", "step": "confirm", "confirm": "on"})
    assert response.status_code == HTTPStatus.FOUND
    assert RuleSetting.objects.get(path=DENY).enabled is False
    assert AuditEntry.objects.filter(action="rule.update").count() == 1


def test_the_counts_read_well_for_one_person_and_no_grant(staff_client, rules, password):
    User.objects.create_user(email="dan@abcinc.example", password=password, is_active=False)
    page = _content(staff_client.post(f"/dashboard/rules/{rules[DENY].pk}/", {"action": "disable"}))
    assert "Today 1 deactivated person holds 0 live grants that would work again." in page


def test_switching_it_back_on_and_other_rules_need_no_confirmation(staff_client, rules):
    RuleSetting.objects.filter(path=DENY).update(enabled=False)
    response = staff_client.post(f"/dashboard/rules/{rules[DENY].pk}/", {"action": "enable"})
    assert response.status_code == HTTPStatus.FOUND
    assert RuleSetting.objects.get(path=DENY).enabled is True
    response = staff_client.post(f"/dashboard/rules/{rules[ROLES_AND_GROUPS].pk}/", {"action": "disable"})
    assert response.status_code == HTTPStatus.FOUND
    assert RuleSetting.objects.get(path=ROLES_AND_GROUPS).enabled is False
