"""The Roles and Groups lists: search, sort by the column headers, pages, htmx fragments."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest

from accounts.models import User
from authz import services
from authz.models import Group, Role

pytestmark = pytest.mark.django_db

ROLES, GROUPS = "/dashboard/roles/", "/dashboard/groups/"
ROLE_ROW = re.compile(r'<td><a href="/dashboard/roles/\d+/">([^<]+)</a></td>')
GROUP_ROW = re.compile(r'<td><a href="/dashboard/groups/\d+/">([^<]+)</a></td>')


def _htmx(url: str) -> dict[str, str]:
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver{url}"}


def _rows(response, row: re.Pattern[str]) -> list[str]:
    assert response.status_code == HTTPStatus.OK
    return row.findall(response.content.decode())


@pytest.fixture
def people(db) -> list[User]:
    return User.objects.bulk_create(
        User(email=f"holder-{number}@abcinc.example", password="!") for number in range(3)
    )


@pytest.fixture
def roles(people) -> None:
    made = {
        name: services.role_create(actor=None, name=name, description=description, permissions=[])
        for name, description in [
            ("Approver", "Approves timesheets"),
            ("Auditor", "Reads the logs"),
            ("Payroll clerk", "Runs the payroll, approves nothing"),
        ]
    }
    for person in people:
        services.role_assign(actor=None, role=made["Payroll clerk"], user=person)
    services.role_assign(actor=None, role=made["Auditor"], user=people[0])


@pytest.fixture
def groups(people) -> None:
    made = {
        name: services.group_create(actor=None, name=name) for name in ["Managers", "Engineers", "Finance"]
    }
    for person in people[:2]:
        services.group_add_member(actor=None, group=made["Finance"], user=person)
    services.group_add_member(actor=None, group=made["Managers"], user=people[0])


# --- Roles ------------------------------------------------------------------------------------


def test_roles_by_name_by_default(staff_client, roles):
    assert _rows(staff_client.get(ROLES), ROLE_ROW) == ["Approver", "Auditor", "Payroll clerk"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [("AUD", ["Auditor"]), ("approves", ["Approver", "Payroll clerk"]), ("logs", ["Auditor"])],
)
def test_role_search_matches_name_or_description(staff_client, roles, q, expected):
    assert _rows(staff_client.get(ROLES, {"q": q}), ROLE_ROW) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-name", ["Payroll clerk", "Auditor", "Approver"]),
        ("holders", ["Approver", "Auditor", "Payroll clerk"]),
        ("-holders", ["Payroll clerk", "Auditor", "Approver"]),
    ],
)
def test_roles_sort_by_name_or_holders(staff_client, roles, sort, expected):
    response = staff_client.get(ROLES, {"sort": sort})
    assert _rows(response, ROLE_ROW) == expected
    direction = "descending" if sort.startswith("-") else "ascending"
    assert response.content.decode().count(f'aria-sort="{direction}"') == 1


def test_role_search_that_finds_nothing_says_so_and_keeps_the_create_form(staff_client, roles):
    content = staff_client.get(ROLES, {"q": "nobody"}).content.decode()
    assert "No role matches “nobody”." in content
    assert 'action="/dashboard/roles/new/"' in content


def test_roles_second_page_shows_the_rest(staff_client, roles):
    Role.objects.bulk_create(Role(name=f"Extra {number:02d}") for number in range(25))
    first = staff_client.get(ROLES)
    assert "Page 1 of 2" in first.content.decode()
    second = staff_client.get(ROLES, {"page": "2"})
    assert _rows(second, ROLE_ROW) == ["Extra 23", "Extra 24", "Payroll clerk"]
    assert _rows(staff_client.get(ROLES, {"page": "7"}), ROLE_ROW) == _rows(second, ROLE_ROW)


@pytest.mark.parametrize("query", [{"sort": "permissions"}, {"page": "last"}, {"sort": "-"}])
def test_roles_bad_values_fall_back(staff_client, roles, query):
    assert _rows(staff_client.get(ROLES, query), ROLE_ROW) == ["Approver", "Auditor", "Payroll clerk"]


def test_roles_htmx_gets_only_the_results(staff_client, roles):
    response = staff_client.get(ROLES, {"q": "payroll"}, **_htmx(ROLES))
    content = response.content.decode()
    assert _rows(response, ROLE_ROW) == ["Payroll clerk"]
    assert "<h1>" not in content and "Create role" not in content and 'role="search"' not in content


def test_role_create_errors_still_come_back_as_the_form_alone(staff_client, roles):
    response = staff_client.post(f"{ROLES}new/", {"name": ""}, **_htmx(ROLES))
    content = response.content.decode()
    assert "Create role" in content
    assert "<table" not in content


# --- Groups -----------------------------------------------------------------------------------


def test_groups_by_name_by_default(staff_client, groups):
    assert _rows(staff_client.get(GROUPS), GROUP_ROW) == ["Engineers", "Finance", "Managers"]


def test_group_search_matches_the_name(staff_client, groups):
    assert _rows(staff_client.get(GROUPS, {"q": " fin "}), GROUP_ROW) == ["Finance"]
    content = staff_client.get(GROUPS, {"q": "sales"}).content.decode()
    assert "No group matches “sales”." in content


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-name", ["Managers", "Finance", "Engineers"]),
        ("members", ["Engineers", "Managers", "Finance"]),
        ("-members", ["Finance", "Managers", "Engineers"]),
    ],
)
def test_groups_sort_by_name_or_members(staff_client, groups, sort, expected):
    assert _rows(staff_client.get(GROUPS, {"sort": sort}), GROUP_ROW) == expected


def test_groups_second_page_and_htmx(staff_client, groups):
    Group.objects.bulk_create(Group(name=f"Team {number:02d}") for number in range(25))
    second = staff_client.get(GROUPS, {"page": "2", "q": "team"}, **_htmx(GROUPS))
    content = second.content.decode()
    # 25 teams fit on one page: page 2 falls back to it, without a pager.
    assert _rows(second, GROUP_ROW) == [f"Team {number:02d}" for number in range(25)]
    assert "Page " not in content
    assert "<h1>" not in content
    everyone = staff_client.get(GROUPS, {"page": "2"})
    assert _rows(everyone, GROUP_ROW) == ["Team 22", "Team 23", "Team 24"]
    assert 'rel="prev">Previous</a>' in everyone.content.decode()


def test_groups_bad_sort_falls_back(staff_client, groups):
    assert _rows(staff_client.get(GROUPS, {"sort": "role_count"}), GROUP_ROW) == [
        "Engineers",
        "Finance",
        "Managers",
    ]
