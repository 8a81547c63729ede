"""The group page's "Group to nest" picker offers only groups that can go inside: never the
group itself, its own subgroups, or any group that contains it (directly or deeper)."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest

from authz import services
from authz.models import GroupNesting

pytestmark = pytest.mark.django_db


def _offered(staff_client, group) -> set[str]:
    page = staff_client.get(f"/dashboard/groups/{group.pk}/").content.decode()
    picker = re.search(r'<select name="subgroup".*?</select>', page, re.S)
    assert picker is not None
    return set(re.findall(r'<option value="\d+">([^<]+)</option>', picker.group(0)))


def test_the_picker_never_offers_a_groups_parents_or_itself(staff_client):
    company = services.group_create(actor=None, name="Company")
    managers = services.group_create(actor=None, name="Managers")
    leads = services.group_create(actor=None, name="Team leads")
    shift = services.group_create(actor=None, name="Shift leads")
    contractors = services.group_create(actor=None, name="Contractors")
    services.group_nest(actor=None, parent=company, child=managers)
    services.group_nest(actor=None, parent=managers, child=leads)
    services.group_nest(actor=None, parent=leads, child=shift)

    # Company ⊃ Managers ⊃ Team leads ⊃ Shift leads.
    assert _offered(staff_client, leads) == {"Contractors"}
    assert _offered(staff_client, shift) == {"Contractors"}
    assert _offered(staff_client, company) == {"Team leads", "Shift leads", "Contractors"}
    assert _offered(staff_client, contractors) == {"Company", "Managers", "Team leads", "Shift leads"}


def test_a_parent_posted_from_a_stale_page_is_still_refused_with_the_reason(staff_client):
    managers = services.group_create(actor=None, name="Managers")
    leads = services.group_create(actor=None, name="Team leads")
    services.group_nest(actor=None, parent=managers, child=leads)

    response = staff_client.post(f"/dashboard/groups/{leads.pk}/subgroups/", {"subgroup": managers.pk})
    assert response.status_code == HTTPStatus.OK
    assert "would make a cycle" in response.content.decode()
    nestings = list(GroupNesting.objects.values_list("parent__name", "child__name"))
    assert nestings == [("Managers", "Team leads")]
