"""The MFA policy: who must sign in with a second factor (never, staff, chosen groups)."""

from __future__ import annotations

import html
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.mfa.models import Passkey
from accounts.mfa.policy import mfa_required as asked_at_sign_in
from accounts.models import AuditEntry, User
from authz import services
from authz.mfa import (
    PolicyReach,
    client_requires_mfa,
    mfa_policy_set,
    mfa_required,
    people_asked,
    policy_reach,
)
from authz.models import Group, MfaPolicy
from clients.models import Client

pytestmark = pytest.mark.django_db


def _policy(mode: str, groups: list[Group] | None = None) -> MfaPolicy:
    policy, _ = MfaPolicy.objects.update_or_create(pk=MfaPolicy.SINGLETON, defaults={"mode": mode})
    policy.groups.set(groups or [])
    return policy


@pytest.fixture
def managers() -> Group:
    return services.group_create(actor=None, name="Managers", description="")


@pytest.fixture
def leads(managers) -> Group:
    """Team leads: a group nested in Managers."""
    leads = services.group_create(actor=None, name="Team leads", description="")
    services.group_nest(actor=None, parent=managers, child=leads)
    return leads


def test_no_policy_row_means_never(user, staff_user):
    assert not MfaPolicy.objects.exists()
    assert mfa_required(user) is False
    assert mfa_required(staff_user) is False


def test_never_asks_nobody(user, staff_user):
    _policy(MfaPolicy.Mode.NEVER)
    assert mfa_required(user) is False
    assert mfa_required(staff_user) is False


def test_staff_asks_staff_only(user, staff_user):
    _policy(MfaPolicy.Mode.STAFF)
    assert mfa_required(staff_user) is True
    assert mfa_required(user) is False


def test_groups_asks_members_of_chosen_groups(user, staff_user, managers):
    _policy(MfaPolicy.Mode.GROUPS, [managers])
    services.group_add_member(actor=None, group=managers, user=user)
    assert mfa_required(user) is True
    assert mfa_required(staff_user) is False  # staff, but not a manager


def test_groups_counts_members_of_nested_groups(user, managers, leads):
    _policy(MfaPolicy.Mode.GROUPS, [managers])
    services.group_add_member(actor=None, group=leads, user=user)
    assert mfa_required(user) is True


def test_groups_does_not_flow_up_from_a_parent(user, managers, leads):
    """Choosing the nested group does not ask the members of its parent."""
    _policy(MfaPolicy.Mode.GROUPS, [leads])
    services.group_add_member(actor=None, group=managers, user=user)
    assert mfa_required(user) is False


def test_groups_with_no_group_chosen_asks_nobody(user, managers):
    _policy(MfaPolicy.Mode.GROUPS, [])
    services.group_add_member(actor=None, group=managers, user=user)
    assert mfa_required(user) is False


def test_the_sign_in_asks_this_policy(staff_user, user):
    """settings.MFA_POLICY names authz.mfa.mfa_required: the hook the sign-in calls."""
    _policy(MfaPolicy.Mode.STAFF)
    assert asked_at_sign_in(staff_user) is True
    assert asked_at_sign_in(user) is False


def test_a_change_holds_at_the_next_sign_in(staff_user):
    """Nothing is cached in the process: the next question reads the new policy."""
    _policy(MfaPolicy.Mode.STAFF)
    assert mfa_required(staff_user) is True
    _policy(MfaPolicy.Mode.NEVER)
    assert mfa_required(staff_user) is False


def test_only_one_policy_row_can_exist():
    with pytest.raises(IntegrityError):
        MfaPolicy.objects.create(pk=2, mode=MfaPolicy.Mode.STAFF)


def test_client_requires_mfa_follows_its_setting(public_client: Client):
    assert client_requires_mfa(public_client) is False
    public_client.require_mfa = True
    public_client.save(update_fields=["require_mfa"])
    public_client.refresh_from_db()
    assert client_requires_mfa(public_client) is True


# --- Who a policy reaches ---------------------------------------------------------------------


def _factor(person: User, *, passkey: bool = False) -> None:
    if passkey:
        Passkey.objects.create(user=person, name="Key", credential_id=f"cred-{person.pk}", public_key=b"k")
    else:
        TOTPDevice.objects.create(user=person, name="Phone", confirmed=True)


def test_reach_counts_active_people_and_those_without_a_factor(staff_user, password):
    other = User.objects.create_user(email="ops@abcinc.example", password=password, is_staff=True)
    keyed = User.objects.create_user(email="sec@abcinc.example", password=password, is_staff=True)
    User.objects.create_user(email="gone@abcinc.example", password=password, is_staff=True, is_active=False)
    _factor(staff_user)
    _factor(keyed, passkey=True)
    TOTPDevice.objects.create(user=other, name="Half-enrolled", confirmed=False)  # does not count
    assert policy_reach(MfaPolicy.Mode.STAFF) == PolicyReach(people=3, without_factor=1)
    assert policy_reach(MfaPolicy.Mode.NEVER) == PolicyReach(people=0, without_factor=0)


def test_reach_of_groups_counts_nested_members_once(user, staff_user, managers, leads):
    services.group_add_member(actor=None, group=managers, user=user)
    services.group_add_member(actor=None, group=leads, user=user)  # in both: counted once
    services.group_add_member(actor=None, group=leads, user=staff_user)
    _factor(staff_user)
    assert policy_reach(MfaPolicy.Mode.GROUPS, [managers.pk]) == PolicyReach(people=2, without_factor=1)
    assert policy_reach(MfaPolicy.Mode.GROUPS, [leads.pk]) == PolicyReach(people=2, without_factor=1)


def test_reach_and_the_sign_in_answer_agree(user, staff_user, managers, leads):
    services.group_add_member(actor=None, group=leads, user=user)
    _policy(MfaPolicy.Mode.GROUPS, [managers])
    asked = set(people_asked(MfaPolicy.Mode.GROUPS, [managers.pk]))
    assert asked == {person for person in User.objects.all() if mfa_required(person)} == {user}


# --- The dashboard page -----------------------------------------------------------------------

URL = "/dashboard/mfa/"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver{URL}"}


def _text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_page_shows_the_policy_and_is_in_the_menu(staff_client, managers):
    _policy(MfaPolicy.Mode.GROUPS, [managers])
    response = staff_client.get(URL)
    assert response.status_code == HTTPStatus.OK
    text = _text(response)
    assert "Now: <strong>Required for members of chosen groups</strong> (Managers)" in text
    assert f'<a href="{URL}" aria-current="page">Multi-factor</a>' in text
    assert 'value="groups" ' in text and "checked" in text


def test_saving_asks_for_confirmation_with_the_counts_first(staff_client, staff_user, password):
    User.objects.create_user(email="ops@abcinc.example", password=password, is_staff=True)
    _factor(staff_user)
    response = staff_client.post(URL, {"mode": "staff"})
    assert response.status_code == HTTPStatus.OK
    text = " ".join(_text(response).split())
    assert "<strong>2</strong> people will need a second factor at every sign-in" in text
    assert "<strong>1</strong> of them has none yet and will set one up at their next sign-in" in text
    assert "You are one of them" in text
    assert not MfaPolicy.objects.exists()  # nothing changed yet
    assert not AuditEntry.objects.filter(action="mfa.policy.update").exists()


def test_confirming_saves_and_audits(staff_client, staff_user):
    response = staff_client.post(URL, {"mode": "staff", "step": "confirm", "confirm": "on"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == URL
    assert MfaPolicy.objects.get().mode == MfaPolicy.Mode.STAFF
    entry = AuditEntry.objects.get(action="mfa.policy.update")
    assert entry.actor == staff_user
    assert entry.before == {"mode": "never", "groups": []}
    assert entry.after == {"mode": "staff", "groups": []}
    assert mfa_required(staff_user) is True


def test_confirming_groups_over_htmx_returns_the_fragment(staff_client, managers, leads):
    data = {"mode": "groups", "groups": [managers.pk, leads.pk], "step": "confirm", "confirm": "on"}
    response = staff_client.post(URL, data, **HTMX)
    assert response.status_code == HTTPStatus.OK
    text = _text(response)
    assert "<h1>" not in text and "Saved: required for members of chosen groups." in text
    assert set(MfaPolicy.objects.get().groups.all()) == {managers, leads}
    assert AuditEntry.objects.get(action="mfa.policy.update").after == {
        "mode": "groups",
        "groups": ["Managers", "Team leads"],
    }


def test_an_unticked_confirmation_changes_nothing(staff_client):
    response = staff_client.post(URL, {"mode": "staff", "step": "confirm"}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "Tick the box to confirm, or cancel." in _text(response)
    assert not MfaPolicy.objects.exists()


def test_groups_without_a_group_is_refused_inline(staff_client):
    response = staff_client.post(URL, {"mode": "groups", "step": "confirm", "confirm": "on"}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "Choose at least one group, or another option." in _text(response)
    assert not MfaPolicy.objects.exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "Choose who must use a second factor."),
        ({"mode": "sometimes"}, "Select a valid choice. sometimes is not one of the available choices."),
        ({"mode": "groups", "groups": ["999999"]}, "That group no longer exists."),
    ],
)
def test_bad_input_is_refused_inline(staff_client, data, error):
    response = staff_client.post(URL, data)
    assert response.status_code == HTTPStatus.OK
    assert error in _text(response)


def test_switching_back_to_never_drops_the_groups(staff_client, managers):
    _policy(MfaPolicy.Mode.GROUPS, [managers])
    response = staff_client.post(URL, {"mode": "never"})
    assert "Nobody will be required to use a second factor." in _text(response)
    staff_client.post(URL, {"mode": "never", "groups": [managers.pk], "step": "confirm", "confirm": "on"})
    policy = MfaPolicy.objects.get()
    assert policy.mode == MfaPolicy.Mode.NEVER and not policy.groups.exists()


def test_saving_the_same_policy_again_writes_no_audit_entry(staff_user):
    mfa_policy_set(actor=staff_user, mode=MfaPolicy.Mode.STAFF)
    mfa_policy_set(actor=staff_user, mode=MfaPolicy.Mode.STAFF)
    assert AuditEntry.objects.filter(action="mfa.policy.update").count() == 1


def test_the_service_refuses_groups_mode_without_groups(staff_user):
    with pytest.raises(ValidationError) as caught:
        mfa_policy_set(actor=staff_user, mode=MfaPolicy.Mode.GROUPS, groups=[])
    assert caught.value.message_dict == {"groups": ["Choose at least one group."]}


def test_non_staff_are_refused(user_client):
    assert user_client.get(URL).status_code == HTTPStatus.FORBIDDEN
    response = user_client.post(URL, {"mode": "never", "step": "confirm", "confirm": "on"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not MfaPolicy.objects.exists()


def test_auditors_may_look_but_not_change(auditor_client):
    assert auditor_client.get(URL).status_code == HTTPStatus.OK
    response = auditor_client.post(URL, {"mode": "staff", "step": "confirm", "confirm": "on"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not MfaPolicy.objects.exists()


def test_anonymous_people_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/?next=")


def test_the_page_lists_applications_that_always_ask(staff_client, public_client: Client):
    public_client.require_mfa = True
    public_client.save(update_fields=["require_mfa"])
    assert f"/dashboard/applications/{public_client.pk}/" in _text(staff_client.get(URL))
