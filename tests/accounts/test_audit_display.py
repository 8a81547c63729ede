"""The audit log as an administrator reads it: long values expand in full, times carry their
time zone, targets link to their pages (or say they are deleted), search and order."""

from __future__ import annotations

import html
import re
from datetime import datetime
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEntry
from apis.services import api_create
from authz import services
from authz.models import RuleSetting

pytestmark = pytest.mark.django_db

LONG_NOTE = "Approves the hours of the night shift " * 6 + "and nothing else."


@pytest.fixture
def admin(staff_client):
    """The administrator's browser; its own sign-in left out of the log, which these tests count."""
    AuditEntry.objects.filter(action="security.login").delete()
    return staff_client


def _content(http, query: str = "") -> str:
    response = http.get(f"/dashboard/audit/{query}")
    assert response.status_code == HTTPStatus.OK
    return html.unescape(response.content.decode())


def _at(entry: AuditEntry, moment: str) -> None:
    AuditEntry.objects.filter(pk=entry.pk).update(at=datetime.fromisoformat(moment))


def test_a_long_value_shows_a_summary_and_expands_to_all_of_it(admin, staff_user):
    audit_record(
        actor=staff_user,
        action="role.update",
        before={"description": "Approves hours"},
        after={"description": LONG_NOTE},
    )
    content = _content(admin, "?action=role.update")

    summary = LONG_NOTE[:79] + "…"
    details = re.search(r'<details class="audit-value">(.*?)</details>', content, re.S)
    assert details is not None
    assert f"<summary><ins>{summary}</ins>" in details.group(1)
    assert f"show all {len(LONG_NOTE)} characters" in details.group(1)
    # The expansion holds the value whole, not cut.
    assert f'<ins class="audit-full">{LONG_NOTE}</ins>' in details.group(1)
    # A short value is shown as it is, with nothing to expand.
    assert "<del>Approves hours</del>" in content
    assert content.count('<details class="audit-value">') == 1


def test_a_long_list_and_a_json_value_expand_in_full(admin, staff_user):
    scopes = [f"https://api{number}.abcinc.example read:everything" for number in range(6)]
    audit_record(
        actor=staff_user, action="role.permissions", before={"permissions": []}, after={"permissions": scopes}
    )
    audit_record(actor=staff_user, action="client.update", after={"settings": {"origins": scopes}})
    content = _content(admin)

    assert f'<ins class="audit-full">{", ".join(scopes)}</ins>' in content
    assert '<ins class="audit-full">{"origins": [' in content
    assert content.count('<details class="audit-value">') == 2


def test_times_carry_their_time_zone(admin, staff_user, settings):
    entry = audit_record(actor=staff_user, action="role.create", after={"name": "Approvers"})
    _at(entry, "2026-11-30T04:15:09+00:00")

    content = _content(admin, "?action=role.create")
    assert '<time datetime="2026-11-30T04:15:09+00:00">2026-11-30 04:15:09 UTC</time>' in content
    assert "Times are in UTC." in content

    settings.TIME_ZONE = "Europe/Berlin"
    timezone.deactivate()
    content = _content(admin, "?action=role.create")
    assert '<time datetime="2026-11-30T05:15:09+01:00">2026-11-30 05:15:09 CET</time>' in content
    assert "Times are in Europe/Berlin." in content


def test_targets_link_to_their_dashboard_pages(admin, staff_user, user, confidential_client):
    role = services.role_create(actor=staff_user, name="Approvers")
    group = services.group_create(actor=staff_user, name="Managers")
    api = api_create(
        identifier="https://reports.abcinc.example", name="Reports", scopes={"read:reports": "Read"}
    )
    client, _ = confidential_client
    audit_record(actor=staff_user, action="client.update", target=client, after={"name": client.name})
    audit_record(actor=staff_user, action="user.update", target=user, after={"name": "Alice"})
    rule = RuleSetting.objects.create(path="authz.rules.example")
    services.rule_update(actor=staff_user, rule=rule, enabled=False, position=3)

    content = _content(admin)

    expected = {
        reverse("roles:detail", args=[role.pk]): "Approvers",
        reverse("groups:detail", args=[group.pk]): "Managers",
        reverse("apis:detail", args=[api.pk]): "Reports",
        reverse("clients:detail", args=[client.pk]): client.name,
        reverse("users:detail", args=[user.pk]): "alice@abcinc.example",
        f"{reverse('rules:list')}#rule-{rule.pk}": "authz.rules.example",
    }
    for url, label in expected.items():
        assert f'<a href="{url}">{label}</a>' in content, label
    # A scope's page is its API's.
    assert f'<a href="{reverse("apis:detail", args=[api.pk])}">read:reports</a>' in content
    assert "(deleted)" not in content


def test_a_deleted_target_is_plain_text_marked_deleted(admin, staff_user):
    gone = services.role_create(actor=staff_user, name="Temporary")
    kept = services.role_create(actor=staff_user, name="Kept")
    gone_url = reverse("roles:detail", args=[gone.pk])
    services.role_delete(actor=staff_user, role=gone)

    content = _content(admin, "?target_type=authz.role")

    assert f'href="{gone_url}"' not in content
    assert content.count('Temporary <span class="muted">(deleted)</span>') == 2
    assert f'<a href="{reverse("roles:detail", args=[kept.pk])}">Kept</a>' in content


def test_a_target_with_an_id_its_model_cannot_hold_is_not_looked_up(admin, staff_user):
    entry = audit_record(actor=staff_user, action="role.update", target_label="Odd")
    AuditEntry.objects.filter(pk=entry.pk).update(target_type="authz.role", target_id="not-a-number")
    assert 'Odd <span class="muted">(deleted)</span>' in _content(admin, "?action=role.update")


def test_targets_are_found_in_one_query_per_type_not_per_row(admin, staff_user):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get("/dashboard/audit/").status_code == HTTPStatus.OK
        return len(captured)

    services.role_create(actor=staff_user, name="Role 0")
    services.group_create(actor=staff_user, name="Group 0")
    few = queries()
    for number in range(1, 15):
        services.role_create(actor=staff_user, name=f"Role {number}")
        services.group_create(actor=staff_user, name=f"Group {number}")
    assert queries() == few


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=approv", ["role.update", "role.create"]),  # the target's name, whatever the case
        ("q=bob@", ["group.create"]),  # the actor
        ("q=GROUP.", ["group.create"]),  # the action
        ("q=nobody", []),
        ("sort=at", ["role.create", "role.update", "group.create"]),
        ("sort=at&q=role", ["role.create", "role.update"]),
        ("sort=-at", ["group.create", "role.update", "role.create"]),
        ("sort=sideways", ["group.create", "role.update", "role.create"]),  # quietly newest first
    ],
)
def test_search_and_order(admin, staff_user, query, expected):
    bob = staff_user.__class__.objects.create_user(email="bob@abcinc.example", is_staff=True)
    role = services.role_create(actor=staff_user, name="Approvers")
    services.role_update(actor=staff_user, role=role, name="Approvers", description="Approve hours")
    services.group_create(actor=bob, name="Managers")
    days = ("2026-03-01T12:00", "2026-03-02T12:00", "2026-03-03T12:00")
    for entry, moment in zip(AuditEntry.objects.order_by("id"), days, strict=True):
        _at(entry, f"{moment}+00:00")

    response = admin.get(f"/dashboard/audit/?{query}")
    assert [row.entry.action for row in response.context["rows"]] == expected


def test_the_order_is_shown_and_kept_by_the_next_search(admin, staff_user):
    for number in range(60):
        audit_record(actor=staff_user, action="test.event", target_label=f"event {number}")
    newest = _content(admin, "?action=test.")
    assert 'aria-sort="descending">When</th>' in newest
    assert '<a href="?action=test.&sort=at">Show oldest first</a>' in newest

    oldest = _content(admin, "?action=test.&sort=at")
    assert 'aria-sort="ascending">When</th>' in oldest
    # The order rides with the filters' form, and the pager keeps it.
    assert '<input type="hidden" name="sort" value="at" form="audit-filters">' in oldest
    assert "?action=test.&sort=at&page=2" in oldest
    response = admin.get("/dashboard/audit/?action=test.&sort=at&page=2")
    assert response.context["rows"][-1].entry.target_label == "event 59"


def test_a_search_that_finds_nothing_says_so(admin):
    assert "No entry matches “zebra” with these filters." in _content(admin, "?q=zebra")
