"""The audit log page: filters, htmx live results, paging, compact before/after."""

from __future__ import annotations

import html
from datetime import datetime
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEntry, User
from authz.services import role_assign, role_create, role_update

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/audit/"}


@pytest.fixture
def history(staff_client, staff_user, user) -> dict[str, AuditEntry]:
    """Changes by two people on three days."""
    # Signing in is audited too (staff_client's sign-in); this history is only the changes below.
    AuditEntry.objects.filter(action="security.login").delete()
    bob = User.objects.create_user(email="bob@abcinc.example", is_staff=True)
    role = role_create(actor=staff_user, name="Approvers")
    role_update(actor=staff_user, role=role, name="Timesheet Approvers", description="Approve hours")
    role_assign(actor=bob, role=role, user=user)
    user_entry = audit_record(
        actor=bob,
        action="user.update",
        target=user,
        before={"name": "Alice Anders", "nickname": "alice"},
        after={"name": "Alice Brown", "nickname": "alice"},
    )
    entries = {entry.action: entry for entry in AuditEntry.objects.all()}
    days = {"role.create": "2026-03-01", "role.update": "2026-03-02", "role.assign": "2026-03-03"}
    for action, day in days.items():
        at = timezone.make_aware(datetime.fromisoformat(f"{day}T12:00:00"))
        AuditEntry.objects.filter(pk=entries[action].pk).update(at=at)
    AuditEntry.objects.filter(pk=user_entry.pk).update(
        at=timezone.make_aware(datetime.fromisoformat("2026-03-04T00:30:00"))
    )
    return entries


def _actions(response) -> list[str]:
    return [entry.action for entry, _ in response.context["rows"]]


def test_anonymous_users_are_sent_to_login():
    response = HttpClient().get("/dashboard/audit/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/login/?next=/dashboard/audit/"


def test_non_staff_users_are_forbidden(user_client, history):
    for extra in ({}, HTMX):
        response = user_client.get("/dashboard/audit/?action=role.", **extra)
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert b"role.assign" not in response.content


def test_the_log_lists_every_entry_newest_first(staff_client, history, user):
    response = staff_client.get("/dashboard/audit/")
    assert response.status_code == HTTPStatus.OK
    assert _actions(response) == ["user.update", "role.assign", "role.update", "role.create"]
    content = html.unescape(response.content.decode())
    assert "<html" in content
    assert 'id="audit-results"' in content
    # Who, and the user a change was about, link to their pages.
    assert f'<a href="/dashboard/people/{user.pk}/">alice@abcinc.example</a>' in content
    assert "2026-03-04 00:30:00" in content


def test_before_and_after_show_only_what_changed(staff_client, history):
    response = staff_client.get("/dashboard/audit/?action=user.update")
    ((_, changes),) = response.context["rows"]
    assert [(change.field, change.before, change.after) for change in changes] == [
        ("name", "Alice Anders", "Alice Brown")
    ]
    content = html.unescape(response.content.decode())
    assert "<code>name</code>" in content and "<del>Alice Anders</del>" in content
    assert "<ins>Alice Brown</ins>" in content
    assert "<code>nickname</code>" not in content

    created = staff_client.get("/dashboard/audit/?action=role.create")
    ((_, changes),) = created.context["rows"]
    # Empty fields of a new object are left out.
    assert [(change.field, change.before, change.after) for change in changes] == [
        ("name", None, "Approvers")
    ]


def test_a_changed_list_shows_the_items_out_and_in(staff_client, staff_user):
    audit_record(
        actor=staff_user,
        action="role.permissions",
        before={"name": "Approvers", "permissions": ["api read", "api write"]},
        after={"name": "Approvers", "permissions": ["api read", "api approve"]},
    )
    # Only this entry: staff_client's own sign-in is in the log too.
    response = staff_client.get("/dashboard/audit/?action=role.permissions")
    ((_, changes),) = response.context["rows"]
    assert [(change.field, change.before, change.after) for change in changes] == [
        ("permissions", "api write", "api approve")
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=bob", ["user.update", "role.assign"]),
        ("actor=ADMIN@abcinc", ["role.update", "role.create"]),
        ("action=role.", ["role.assign", "role.update", "role.create"]),
        ("action=role.a", ["role.assign"]),
        ("target_type=accounts.user", ["user.update"]),
        ("target_type=authz.role&actor=admin", ["role.update", "role.create"]),
        ("date_from=2026-03-02&date_to=2026-03-03", ["role.assign", "role.update"]),
        ("date_from=2026-03-04", ["user.update"]),
        ("date_to=2026-03-01", ["role.create"]),
        ("action=client.", []),
    ],
)
def test_filters_narrow_the_results(staff_client, history, query, expected):
    response = staff_client.get(f"/dashboard/audit/?{query}")
    assert response.status_code == HTTPStatus.OK
    assert _actions(response) == expected


def test_target_types_offered_are_those_in_the_log(staff_client, history):
    response = staff_client.get("/dashboard/audit/")
    choices = dict(response.context["form"].fields["target_type"].choices)
    assert choices == {"": "Any", "accounts.user": "User", "authz.role": "Role"}
    unknown = staff_client.get("/dashboard/audit/?target_type=nope")
    assert unknown.status_code == HTTPStatus.OK
    assert 'id="id_target_type_error"' in unknown.content.decode()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("date_from=2026-02-30", "date_from", "Enter a valid date."),
        ("date_to=yesterday", "date_to", "Enter a valid date."),
        ("date_from=2026-03-03&date_to=2026-03-01", "date_to", "The end date is before the start date."),
    ],
)
def test_a_bad_date_is_shown_inline(staff_client, history, query, field, message):
    response = staff_client.get(f"/dashboard/audit/?{query}")
    assert response.status_code == HTTPStatus.OK
    content = html.unescape(response.content.decode())
    assert f'<p class="field-error" id="id_{field}_error">{message}</p>' in content
    assert "Fix the filters above" in content
    assert response.context["rows"] is None


def test_htmx_gets_only_the_results_fragment(staff_client, history):
    response = staff_client.get("/dashboard/audit/?action=role.", **HTMX)
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "<html" not in content
    assert 'id="audit-results"' not in content  # the swap target stays on the page
    assert "<form" not in content  # and so do the filters, with the field being typed in
    assert "role.assign" in content and "user.update" not in content
    assert "HX-Request" in response["Vary"]
    # The error slots next to the filters are cleared out of band.
    assert 'id="id_date_from_errors" hx-swap-oob="true"' in content


def test_htmx_with_a_bad_date_updates_the_error_next_to_the_field(staff_client, history):
    response = staff_client.get("/dashboard/audit/?date_from=2026-13-01", **HTMX)
    assert response.status_code == HTTPStatus.OK
    content = html.unescape(response.content.decode())
    assert "<html" not in content
    assert (
        '<div class="field-errors" id="id_date_from_errors" hx-swap-oob="true">'
        '<p class="field-error" id="id_date_from_error">Enter a valid date.</p></div>'
    ) in content


def test_the_full_page_has_no_out_of_band_swaps(staff_client, history):
    assert "hx-swap-oob" not in staff_client.get("/dashboard/audit/").content.decode()


def test_pages_are_stable_and_keep_the_filters(staff_client, staff_user):
    for number in range(60):
        audit_record(actor=staff_user, action="test.event", target_label=f"event {number}")
    AuditEntry.objects.update(at=timezone.now())  # the same instant: the id breaks the tie

    first = staff_client.get("/dashboard/audit/?action=test.")
    second = staff_client.get("/dashboard/audit/?action=test.&page=2")
    labels = [entry.target_label for page in (first, second) for entry, _ in page.context["rows"]]
    assert labels == [f"event {number}" for number in reversed(range(60))]
    assert 'href="?action=test.&amp;page=2"' in first.content.decode()
    assert "Page 2 of 2" in second.content.decode()
