"""/api/v2/logs: the audit log read by a machine client, filtered and paged newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from urllib.parse import quote

import pytest
from django.test import Client as HttpClient

from accounts.audit import acting_client, audit_record
from accounts.models import AuditEntry
from apis.system import MANAGEMENT_SCOPES

PASSWORD_WRONG = "not-the-password"


def _entries(caller, query: str = "") -> list[dict]:
    response = caller.get(f"logs{query}")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["results"]


def _errors(response) -> dict[str, str]:
    return {error["pointer"]: error["detail"] for error in response.json()["errors"]}


def test_what_a_client_changes_is_in_the_log_under_its_name(admin_api):
    created = admin_api.post("clients", {"name": "Job", "app_type": "m2m"}).json()

    [entry] = _entries(admin_api, f"?action=client.create&actor=client:{admin_api.client_id}")

    assert entry["actor"] == f"client:{admin_api.client_id}"
    assert entry["target_type"] == "clients.client"
    assert entry["target_label"] == "Job"
    assert entry["after"]["client_id"] == created["client_id"]
    assert entry["before"] is None
    detail = admin_api.get(f"logs/{entry['id']}")
    assert detail.json() == entry
    assert detail["ETag"]


def test_sign_ins_and_failures_are_there(admin_api, user, password):
    HttpClient().post("/login/", {"username": user.email, "password": PASSWORD_WRONG})
    HttpClient().post("/login/", {"username": user.email, "password": password})

    entries = _entries(admin_api, "?action=security.login")

    assert [entry["action"] for entry in entries] == ["security.login", "security.login_failure"]
    assert entries[0]["actor"] == user.email
    assert entries[1]["target_label"] == user.email
    assert PASSWORD_WRONG not in str(entries)


def _as_client(client_id: str, **entry) -> AuditEntry:
    with acting_client(client_id):
        return audit_record(actor=None, **entry)


@pytest.fixture
def history(db, user) -> dict[str, AuditEntry]:
    """Four entries a day apart, the newest now."""
    now = datetime.now(UTC)
    made = {
        "old": audit_record(actor=user, action="role.create", target_label="Approvers"),
        "person": audit_record(actor=user, action="user.update", target=user),
        "machine": _as_client("job-runner", action="client.update", target_label="Job"),
        "new": audit_record(actor=user, action="role.delete", target_label="Approvers"),
    }
    for days_ago, entry in zip((3, 2, 1, 0), made.values(), strict=True):
        AuditEntry.objects.filter(pk=entry.pk).update(at=now - timedelta(days=days_ago))
    return made


def _ids(entries: list[dict]) -> list[int]:
    return [entry["id"] for entry in entries]


def test_filters_narrow_the_log(machine_token, history, user):
    reader = machine_token("read:logs")
    made = {name: entry.pk for name, entry in history.items()}
    day = datetime.now(UTC) - timedelta(days=2, hours=1)

    assert _ids(_entries(reader, f"?actor={quote(user.email.upper())}")) == [
        made["new"],
        made["person"],
        made["old"],
    ]
    assert _ids(_entries(reader, "?actor=CLIENT:job-runner")) == [made["machine"]]
    assert _ids(_entries(reader, "?action=role.")) == [made["new"], made["old"]]
    assert _ids(_entries(reader, f"?target_type=accounts.user&target_id={user.pk}")) == [made["person"]]
    assert _ids(_entries(reader, f"?from={quote(day.isoformat())}&actor=client:job-runner")) == [
        made["machine"]
    ]
    assert _ids(_entries(reader, f"?to={quote(day.isoformat())}")) == [made["old"]]


def test_the_log_pages_newest_first_without_gaps(machine_token, history):
    reader = machine_token("read:logs")
    seen, url = [], "logs?page_size=2"

    while url:
        page = reader.get(url.removeprefix("http://testserver/api/v2/")).json()
        seen += _ids(page["results"])
        url = page["next"]

    expected = list(AuditEntry.objects.order_by("-at", "-id").values_list("pk", flat=True))
    assert seen == expected
    assert len(seen) >= 4


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ("?from=yesterday", "#/from"),
        ("?to=2026-13-01T00:00:00Z", "#/to"),
        (f"?actor={'a' * 255}", "#/actor"),
        ("?page_size=500", "#/page_size"),
    ],
)
def test_bad_filters_are_400_on_their_parameter(admin_api, query, pointer):
    response = admin_api.get(f"logs{query}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert pointer in _errors(response)


@pytest.mark.parametrize(
    "query",
    [
        "?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        "?to=0001-01-01T00:00:00%2B05:00",
        "?from=9999-12-31T23:59:59-05:00",
    ],
)
def test_ranges_that_hold_nothing_find_nothing(admin_api, history, query):
    assert _entries(admin_api, query) == []


def test_ranges_beyond_the_calendar_find_everything(admin_api, history):
    everything = _ids(_entries(admin_api))

    assert (
        _ids(_entries(admin_api, "?from=0001-01-01T00:00:00%2B05:00&to=9999-12-31T23:59:59-05:00"))
        == everything
    )


def test_an_unknown_entry_is_404(admin_api):
    assert admin_api.get("logs/999999").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("path", ["logs", "logs/1"])
def test_reading_the_log_needs_read_logs(machine_token, path):
    caller = machine_token(*(name for name in MANAGEMENT_SCOPES if name != "read:logs"))

    response = caller.get(path)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "insufficient_scope"
    assert "read:logs" in response.json()["detail"]
