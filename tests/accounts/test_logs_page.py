"""The logs page: filters, paging by key, one entry whole, CSV and JSON exports of a
filtered range (formulas neutralised), staff only, and the retention clean-up."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from accounts import logs
from accounts.models import AuditEntry
from authz.oauth.tasks import clear_expired_tokens

pytestmark = pytest.mark.django_db


def _entry(action: str, **fields) -> AuditEntry:
    return AuditEntry.objects.create(action=action, actor_label=fields.pop("actor_label", "system"), **fields)


@pytest.fixture
def entries(staff_client) -> dict[str, AuditEntry]:
    AuditEntry.objects.all().delete()  # the staff member's own sign-in
    return {
        "issued": _entry(
            "token.issue.client_credentials",
            actor_label="client:batch",
            client_id="batch",
            audience="https://timesheets.abcinc.example/api",
            ip="198.51.100.4",
            details={"scope": "read:timesheets"},
        ),
        "failure": _entry(
            "security.login_failure",
            target_label="alice@abcinc.example",
            ip="203.0.113.9",
            details={"reason": "wrong_password"},
        ),
        "login": _entry("security.login", actor_label="alice@abcinc.example", ip="203.0.113.9"),
        "old": _entry(
            "role.create", actor_label="admin@abcinc.example", at=timezone.now() - timedelta(days=3)
        ),
    }


def _shown(response) -> list[int]:
    return [entry.pk for entry, _summary in response.context["rows"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"type": "security.login"}, ["login", "failure"]),
        ({"type": "token."}, ["issued"]),
        ({"user": "Alice@abcinc.example"}, ["login", "failure"]),
        ({"client": "batch"}, ["issued"]),
        ({"api": "https://timesheets.abcinc.example/api"}, ["issued"]),
        ({"ip": "203.0.113.9", "type": "security.login_failure"}, ["failure"]),
        ({"to": (timezone.localdate() - timedelta(days=1)).isoformat()}, ["old"]),
        ({"from": timezone.localdate().isoformat()}, ["login", "failure", "issued"]),
        ({"to": timezone.localdate().isoformat()}, ["login", "failure", "issued", "old"]),  # the whole day
    ],
)
def test_filters(staff_client, entries, query, expected):
    response = staff_client.get("/dashboard/logs/", query)
    assert response.status_code == HTTPStatus.OK
    assert _shown(response) == [entries[name].pk for name in expected]


def test_bad_filters_are_refused_inline(staff_client, entries):
    query = {"ip": "not-an-ip", "from": "yesterday"}
    page = staff_client.get("/dashboard/logs/", query)
    assert set(page.context["form"].errors) == {"ip", "from"}
    assert page.context["page"] is None
    fragment = staff_client.get("/dashboard/logs/", query, HTTP_HX_REQUEST="true")
    assert fragment.status_code == HTTPStatus.OK  # htmx swaps only successful responses
    assert b'id="id_from_errors" hx-swap-oob="true"' in fragment.content
    assert b"Enter a date (2026-11-30)" in fragment.content


@pytest.mark.parametrize("edge", ["9999-12-31", "9999-12-31T23:00-05:00", "0001-01-01T00:00+01:00"])
def test_dates_at_the_calendars_ends_are_refused_not_errors(staff_client, edge):
    response = staff_client.get("/dashboard/logs/", {"to": edge})
    assert response.status_code == HTTPStatus.OK
    assert "to" in response.context["form"].errors


def test_htmx_gets_only_the_results(staff_client, entries):
    response = staff_client.get("/dashboard/logs/", {"type": "token."}, HTTP_HX_REQUEST="true")
    assert b"<h1>" not in response.content
    assert b"token.issue.client_credentials" in response.content


def test_pages_by_key(staff_client, monkeypatch):
    monkeypatch.setattr(logs, "PAGE_SIZE", 2)
    now = timezone.now()
    made = [_entry("test.page", at=now - timedelta(seconds=index)) for index in range(5)]
    first = staff_client.get("/dashboard/logs/", {"type": "test."})
    assert _shown(first) == [made[0].pk, made[1].pk]
    second = staff_client.get("/dashboard/logs/", {"type": "test.", "before": first.context["page"].older})
    assert _shown(second) == [made[2].pk, made[3].pk]
    third = staff_client.get("/dashboard/logs/", {"type": "test.", "before": second.context["page"].older})
    assert _shown(third) == [made[4].pk] and third.context["page"].older is None
    back = staff_client.get("/dashboard/logs/", {"type": "test.", "after": third.context["page"].newer})
    assert _shown(back) == [made[2].pk, made[3].pk]
    # A cursor that is not one shows the newest page.
    assert _shown(
        staff_client.get("/dashboard/logs/", {"type": "test.", "before": "9" * 40 + "_1"})
    ) == _shown(first)


def test_detail_shows_the_whole_entry(staff_client, entries):
    response = staff_client.get(f"/dashboard/logs/{entries['issued'].pk}/")
    assert response.status_code == HTTPStatus.OK
    whole = json.loads(response.context["whole"])
    assert whole["details"] == {"scope": "read:timesheets"}
    assert whole["client_id"] == "batch"
    assert staff_client.get("/dashboard/logs/999999/").status_code == HTTPStatus.NOT_FOUND


def test_people_who_are_not_staff_are_refused(user_client, entries):
    assert user_client.get("/dashboard/logs/").status_code == HTTPStatus.FORBIDDEN
    assert user_client.get("/dashboard/logs/export.csv").status_code == HTTPStatus.FORBIDDEN
    assert user_client.get(f"/dashboard/logs/{entries['issued'].pk}/").status_code == HTTPStatus.FORBIDDEN
    anonymous = HttpClient().get("/dashboard/logs/export.json")
    assert anonymous.status_code == HTTPStatus.FOUND and anonymous["Location"].startswith("/login/")


def test_auditors_read_and_export(auditor_client, entries):
    assert auditor_client.get("/dashboard/logs/").status_code == HTTPStatus.OK
    assert auditor_client.get("/dashboard/logs/export.csv").status_code == HTTPStatus.OK


def _body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_csv_export_of_a_filtered_range_neutralises_formulas(staff_client, entries):
    _entry(
        "security.login_failure", target_label='=HYPERLINK("http://evil")', user_agent="+cmd|' /C calc'!A0"
    )
    response = staff_client.get("/dashboard/logs/export.csv", {"type": "security.login_failure"})
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert [row["type"] for row in rows] == ["security.login_failure"] * 2
    assert rows[0]["target"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["user_agent"] == "'+cmd|' /C calc'!A0"
    assert json.loads(rows[1]["details"]) == {"reason": "wrong_password"}
    assert not any(cell.startswith(logs.FORMULA_STARTS) for row in rows for cell in row.values())


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_neutralised(start):
    assert logs.spreadsheet_safe(f"{start}1+1") == f"'{start}1+1"
    assert logs.spreadsheet_safe("plain") == "plain"


def test_json_export_of_a_filtered_range(staff_client, entries):
    response = staff_client.get("/dashboard/logs/export.json", {"client": "batch"})
    exported = json.loads(_body(response))
    assert [item["id"] for item in exported] == [entries["issued"].pk]
    assert exported[0]["details"] == {"scope": "read:timesheets"}
    assert staff_client.get("/dashboard/logs/export.xml").status_code == HTTPStatus.NOT_FOUND
    assert staff_client.get("/dashboard/logs/export.json", {"ip": "x"}).status_code == HTTPStatus.BAD_REQUEST


def test_retention_deletes_only_older_entries(entries, settings):
    settings.LOG_RETENTION_DAYS = 2
    clear_expired_tokens()
    assert not AuditEntry.objects.filter(pk=entries["old"].pk).exists()
    assert AuditEntry.objects.count() == 3

    settings.LOG_RETENTION_DAYS = 0
    _entry("role.delete", at=timezone.now() - timedelta(days=4000))
    assert logs.log_entries_purge() == 0


def test_the_audit_page_leaves_token_endpoint_events_to_the_logs(staff_client, entries):
    response = staff_client.get("/dashboard/audit/")
    shown = [entry.pk for entry, _changes in response.context["rows"]]
    assert entries["issued"].pk not in shown and entries["login"].pk in shown
