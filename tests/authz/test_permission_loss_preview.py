"""The dashboard's confirmations say how many people and live grants a change reaches (issue 12, point 3).

``permission_loss_preview`` runs the change in a block that is rolled back and writes no
revocation; ``live_grants`` counts the live grants of the people who would lose a
permission, for the APIs they would lose it on.
"""

from __future__ import annotations

import html
import secrets
import uuid
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts.models import AuditEntry, User
from apis.models import Api, Revocation
from apis.services import api_update
from authz import services
from authz.models import AccessTokenRecord, Group, GroupNesting, Role
from authz.permission_loss import group_people, live_grants, permission_loss_preview
from clients.models import Client

pytestmark = pytest.mark.django_db

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/"}
TWO_LOSE = "2 people lose permissions on Timesheets API; 3 live grants are cut back"
ONE_LOSES = "1 person loses permissions on Timesheets API; 2 live grants are cut back"
ONLY_BOB = "1 person loses permissions on Timesheets API; 1 live grant is cut back"
NOBODY = "Nobody loses a permission."


@pytest.fixture
def api(timesheets_api) -> Api:
    return api_update(api=timesheets_api, rbac_enabled=True)


@pytest.fixture
def reader(api) -> Role:
    role = services.role_create(actor=None, name="Reader")
    services.role_set_permissions(
        actor=None, role=role, permissions=list(api.scopes.filter(value="read:timesheets"))
    )
    return role


@pytest.fixture
def bob(password) -> User:
    return User.objects.create_user(email="bob@abcinc.example", password=password)


@pytest.fixture
def carol(password) -> User:
    return User.objects.create_user(email="carol@abcinc.example", password=password)


@pytest.fixture
def payroll(reader, user, bob) -> Group:
    """Alice and Bob hold Reader through Payroll, which sits inside Finance."""
    group = services.group_create(actor=None, name="Payroll")
    services.group_add_role(actor=None, group=group, role=reader)
    services.group_add_member(actor=None, group=group, user=user)
    services.group_add_member(actor=None, group=group, user=bob)
    return group


@pytest.fixture
def finance(payroll) -> Group:
    group = services.group_create(actor=None, name="Finance")
    services.group_nest(actor=None, parent=group, child=payroll)
    return group


def _token(user: User, client: Client, grant: uuid.UUID, audience: str, *, live: bool = True) -> Any:
    expires = timezone.now() + (timedelta(hours=1) if live else -timedelta(hours=1))
    token = AccessToken.objects.create(
        user=user, application=client, token=secrets.token_urlsafe(), expires=expires, scope="read:timesheets"
    )
    AccessTokenRecord.objects.create(access_token=token, jti=uuid.uuid4(), grant_id=grant, audience=audience)
    return token


def _refresh(user: User, client: Client, grant: uuid.UUID, *, revoked: bool = False) -> None:
    RefreshToken.objects.create(
        user=user,
        application=client,
        token=secrets.token_urlsafe(),
        token_family=grant,
        revoked=timezone.now() if revoked else None,
    )


@pytest.fixture
def grants(api, public_client, user, bob, carol, reader) -> None:
    """Three live Timesheets grants among Alice and Bob, and grants that must not count."""
    aud = api.identifier
    live, family, ended, other, bobs, carols = (uuid.uuid4() for _ in range(6))
    _token(user, public_client, live, aud)  # 1: a live access token
    _token(user, public_client, family, aud, live=False)  # 2: expired, but its family refreshes
    _refresh(user, public_client, family)
    _token(user, public_client, ended, aud, live=False)  # expired, family revoked: over
    _refresh(user, public_client, ended, revoked=True)
    _token(user, public_client, other, "https://reports.abcinc.example/api")  # another API
    _token(bob, public_client, bobs, aud)  # 3: two tokens of one grant count once
    _token(bob, public_client, bobs, aud)
    # Carol holds Reader directly: she keeps it, so her grant is not reached.
    services.role_assign(actor=None, role=reader, user=carol)
    _token(carol, public_client, carols, aud)


def _nothing_written(before_audit: int) -> None:
    assert not Revocation.objects.exists()
    assert AuditEntry.objects.count() == before_audit


def _content(response) -> str:
    return html.unescape(response.content.decode())


# --- The preview -------------------------------------------------------------------------------


def test_the_preview_counts_people_and_live_grants_and_changes_nothing(
    payroll, reader, grants, user, bob, api
):
    audited = AuditEntry.objects.count()

    loss = permission_loss_preview(group_people(payroll.pk), lambda: payroll.roles.remove(reader))

    assert loss.lost == {user: {api.identifier}, bob: {api.identifier}}
    assert (loss.people, loss.apis) == (2, {api.identifier})
    assert live_grants(loss) == 3
    assert list(payroll.roles.all()) == [reader]  # rolled back
    _nothing_written(audited)
    # The service itself still revokes: the preview left permissions_watched as it was.
    services.group_remove_role(actor=None, group=payroll, role=reader)
    assert Revocation.objects.filter(kind=Revocation.Kind.USER_AUDIENCE).count() == 2


def test_the_preview_rolls_back_only_its_own_block(payroll, reader, user):
    kept = services.group_create(actor=None, name="Made before the preview")

    loss = permission_loss_preview([user], lambda: Group.objects.filter(pk=payroll.pk).delete())

    assert loss.people == 1
    assert Group.objects.filter(pk__in=[kept.pk, payroll.pk]).count() == 2


def test_nobody_loses_when_the_permission_is_kept_or_the_api_has_no_rbac(payroll, reader, carol, api):
    loss = permission_loss_preview([carol], lambda: None)
    assert (loss.people, live_grants(loss)) == (0, 0)
    services.role_assign(actor=None, role=reader, user=carol)
    services.group_add_member(actor=None, group=payroll, user=carol)
    assert not permission_loss_preview([carol], lambda: payroll.members.remove(carol)).lost
    api_update(api=api, rbac_enabled=False)
    assert not permission_loss_preview(group_people(payroll.pk), lambda: payroll.roles.remove(reader)).lost


def test_a_failing_change_leaves_everything_as_it_was(payroll, reader):
    def change() -> None:
        payroll.roles.remove(reader)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        permission_loss_preview(group_people(payroll.pk), change)
    assert list(payroll.roles.all()) == [reader]
    assert not Revocation.objects.exists()


# --- The dashboard's confirmations -------------------------------------------------------------


def _removals(reader: Role, payroll: Group, finance: Group, user: User) -> dict[str, tuple[str, str]]:
    """Each one-click removal: its URL, and the sentence its confirmation shows.

    Alice holds Reader directly and through Payroll: no single removal takes it from her.
    """
    services.role_assign(actor=None, role=reader, user=user)
    return {
        "role page: unassign": (f"/dashboard/roles/{reader.pk}/users/{user.pk}/remove/", NOBODY),
        "user page: remove role": (f"/dashboard/people/{user.pk}/roles/{reader.pk}/remove/", NOBODY),
        "user page: leave group": (f"/dashboard/people/{user.pk}/groups/{payroll.pk}/remove/", NOBODY),
        "group page: remove member": (f"/dashboard/groups/{payroll.pk}/members/{user.pk}/remove/", NOBODY),
        "group page: remove role": (f"/dashboard/groups/{payroll.pk}/roles/{reader.pk}/remove/", ONLY_BOB),
        "group page: take out": (f"/dashboard/groups/{finance.pk}/subgroups/{payroll.pk}/remove/", NOBODY),
    }


def _state(reader: Role, payroll: Group, finance: Group) -> tuple:
    return (
        sorted(reader.users.values_list("pk", flat=True)),
        sorted(payroll.members.values_list("pk", flat=True)),
        sorted(payroll.roles.values_list("pk", flat=True)),
        GroupNesting.objects.filter(parent=finance, child=payroll).exists(),
        Revocation.objects.count(),
    )


def test_each_one_click_removal_confirms_with_the_counts_first(
    staff_client, reader, payroll, finance, user, grants
):
    removals = _removals(reader, payroll, finance, user)
    before = _state(reader, payroll, finance)
    for name, (url, sentence) in removals.items():
        page = _content(staff_client.get(url))
        assert sentence in page, name
        assert "<html" in page and f'action="{url}"' in page and 'method="post"' in page, name
        assert f'hx-post="{url}"' not in page, name  # a plain form: its section is not on this page
        fragment = _content(staff_client.get(url, **HTMX))
        assert sentence in fragment and "<html" not in fragment, name
        assert f'hx-post="{url}"' in fragment, name
    assert _state(reader, payroll, finance) == before  # looking changes nothing


def test_the_counts_follow_the_change(staff_client, reader, payroll, finance, user, bob, grants):
    # Alice holds Reader only through Payroll here: each removal reaches her (and Bob's) grants.
    assert ONE_LOSES in _content(staff_client.get(f"/dashboard/people/{user.pk}/groups/{payroll.pk}/remove/"))
    assert ONE_LOSES in _content(
        staff_client.get(f"/dashboard/groups/{payroll.pk}/members/{user.pk}/remove/")
    )
    for url in (
        f"/dashboard/groups/{payroll.pk}/roles/{reader.pk}/remove/",
        f"/dashboard/groups/{finance.pk}/subgroups/{payroll.pk}/remove/",
    ):
        # Taking Payroll out of Finance loses nothing: Payroll holds Reader itself.
        expected = TWO_LOSE if "/roles/" in url else NOBODY
        assert expected in _content(staff_client.get(url, **HTMX)), url
    assert not Revocation.objects.exists()


def test_confirming_makes_the_change(staff_client, reader, payroll, user, grants):
    url = f"/dashboard/groups/{payroll.pk}/roles/{reader.pk}/remove/"
    response = staff_client.post(url, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert not payroll.roles.exists()
    assert Revocation.objects.filter(kind=Revocation.Kind.USER_AUDIENCE).count() == 2


def test_delete_pages_show_the_counts(staff_client, reader, payroll, grants):
    assert TWO_LOSE in _content(staff_client.get(f"/dashboard/groups/{payroll.pk}/delete/"))
    # Carol holds Reader directly too: deleting the role reaches her grant as well.
    role_page = _content(staff_client.get(f"/dashboard/roles/{reader.pk}/delete/"))
    assert "3 people lose permissions on Timesheets API; 4 live grants are cut back" in role_page
    assert Role.objects.filter(pk=reader.pk).exists() and Group.objects.filter(pk=payroll.pk).exists()
    assert not Revocation.objects.exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_removing_a_permission_from_a_role_asks_first(staff_client, reader, payroll, grants, htmx):
    url = f"/dashboard/roles/{reader.pk}/permissions/"
    headers = HTMX if htmx else {}

    response = staff_client.post(url, {"permissions": []}, **headers)
    content = _content(response)
    assert response.status_code == HTTPStatus.OK
    assert "3 people lose permissions on Timesheets API; 4 live grants are cut back" in content
    assert 'name="confirmed" value="1"' in content
    assert ("<html" in content) is not htmx
    assert reader.permissions.exists() and not Revocation.objects.exists()

    response = staff_client.post(url, {"permissions": [], "confirmed": "1"}, **headers)
    assert response.status_code == (HTTPStatus.OK if htmx else HTTPStatus.FOUND)
    assert not reader.permissions.exists()
    assert Revocation.objects.filter(kind=Revocation.Kind.USER_AUDIENCE).count() == 3


def test_adding_a_permission_needs_no_confirmation(staff_client, reader, api):
    scopes = list(api.scopes.filter(value__in=["read:timesheets", "create:timesheets"]))
    response = staff_client.post(
        f"/dashboard/roles/{reader.pk}/permissions/", {"permissions": [s.pk for s in scopes]}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert reader.permissions.count() == 2


# --- Auditors look, and change nothing ----------------------------------------------------------


def test_an_auditor_sees_the_counts_but_cannot_make_the_change(
    auditor_client, reader, payroll, finance, user, grants
):
    removals = _removals(reader, payroll, finance, user)
    before = _state(reader, payroll, finance)
    audited = AuditEntry.objects.exclude(action__startswith="security.").count()
    for name, (url, sentence) in removals.items():
        assert sentence in _content(auditor_client.get(url)), name
        for headers in ({}, HTMX):
            assert auditor_client.post(url, **headers).status_code == HTTPStatus.FORBIDDEN, name
    permissions = f"/dashboard/roles/{reader.pk}/permissions/"
    refused = auditor_client.post(permissions, {"permissions": [], "confirmed": "1"})
    assert refused.status_code == HTTPStatus.FORBIDDEN
    for url in (f"/dashboard/roles/{reader.pk}/delete/", f"/dashboard/groups/{payroll.pk}/delete/"):
        assert auditor_client.post(url).status_code == HTTPStatus.FORBIDDEN, url
    assert _state(reader, payroll, finance) == before
    assert reader.permissions.exists() and Role.objects.filter(pk=reader.pk).exists()
    assert AuditEntry.objects.exclude(action__startswith="security.").count() == audited
