"""Role holders, group members and a person's roles and groups are links to their pages, as
an administrator sees them on the role, group and person pages."""

from __future__ import annotations

import html
import re
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from accounts.models import User
from authz import services
from authz.models import Group, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def role() -> Role:
    return services.role_create(actor=None, name="Approver", description="Approves timesheets")


@pytest.fixture
def group(role, user) -> Group:
    group = services.group_create(actor=None, name="Managers")
    services.group_add_role(actor=None, group=group, role=role)
    services.group_add_member(actor=None, group=group, user=user)
    return group


def _page(http: HttpClient, url: str) -> str:
    response = http.get(url)
    assert response.status_code == HTTPStatus.OK
    return html.unescape(response.content.decode())


def _link(url: str, text: str) -> str:
    return f'<a href="{url}">{text}</a>'


def test_the_role_page_links_its_holders_and_groups(staff_client, role, group, user):
    direct = User.objects.create_user(email="bob@abcinc.example")
    services.role_assign(actor=None, role=role, user=direct)

    content = _page(staff_client, reverse("roles:detail", args=[role.pk]))

    # A direct holder and a holder through a group both link to their own page.
    assert _link(reverse("users:detail", args=[direct.pk]), "bob@abcinc.example") in content
    assert _link(reverse("users:detail", args=[user.pk]), "alice@abcinc.example") in content
    assert _link(reverse("groups:detail", args=[group.pk]), "Managers") in content


def test_people_found_to_assign_link_to_their_page(staff_client, role, user):
    content = _page(staff_client, reverse("roles:detail", args=[role.pk]) + "?q=alice")
    assert _link(reverse("users:detail", args=[user.pk]), "alice@abcinc.example") in content


def test_the_group_page_links_its_members_roles_and_nesting(staff_client, role, group, user):
    parent = services.group_create(actor=None, name="Everyone")
    child = services.group_create(actor=None, name="Night shift")
    services.group_nest(actor=None, parent=parent, child=group)
    services.group_nest(actor=None, parent=group, child=child)

    content = _page(staff_client, reverse("groups:detail", args=[group.pk]))

    assert _link(reverse("users:detail", args=[user.pk]), "alice@abcinc.example") in content
    assert _link(reverse("roles:detail", args=[role.pk]), "Approver") in content
    assert _link(reverse("groups:detail", args=[child.pk]), "Night shift") in content
    assert _link(reverse("groups:detail", args=[parent.pk]), "Everyone") in content


def test_a_persons_page_links_their_roles_and_groups(staff_client, role, group, user):
    direct = services.role_create(actor=None, name="Auditor")
    services.role_assign(actor=None, role=direct, user=user)
    parent = services.group_create(actor=None, name="Everyone")
    services.group_nest(actor=None, parent=parent, child=group)

    content = _page(staff_client, reverse("users:detail", args=[user.pk]))

    # Roles held directly and through a group; groups joined directly and through nesting.
    assert _link(reverse("roles:detail", args=[direct.pk]), "Auditor") in content
    assert _link(reverse("roles:detail", args=[role.pk]), "Approver") in content
    assert _link(reverse("groups:detail", args=[group.pk]), "Managers") in content
    assert _link(reverse("groups:detail", args=[parent.pk]), "Everyone") in content


def test_a_person_without_roles_or_groups_has_no_such_links(staff_client, user):
    content = _page(staff_client, reverse("users:detail", args=[user.pk]))
    assert not re.search(r'href="/dashboard/(roles|groups)/\d+/"', content)
    assert "No roles." in content and "Not in any group." in content
