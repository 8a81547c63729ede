"""/api/v2/stats/daily: sign-ins per UTC day counted from the audit log, access tokens issued
from the daily issuance counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from accounts.audit import audit_record
from accounts.models import AuditEntry
from apis.system import MANAGEMENT_SCOPES
from authz.models import TokenIssuance
from authz.oauth import issuance_counts

NO_TOKENS = {"authorization_code": 0, "refresh_token": 0, "client_credentials": 0}


@pytest.fixture(autouse=True)
def _no_counts_of_other_tests():
    """Token counts live in the process until written: start without earlier tests'."""
    issuance_counts.take()


def _at(entry: AuditEntry, when: datetime) -> None:
    AuditEntry.objects.filter(pk=entry.pk).update(at=when)


def _errors(response) -> dict[str, str]:
    return {error["pointer"]: error["detail"] for error in response.json()["errors"]}


def test_todays_sign_ins_by_default_over_thirty_days(machine_token, user, password):
    reader = machine_token("read:stats")
    HttpClient().post("/login/", {"username": user.email, "password": "wrong-password"})
    HttpClient().post("/login/", {"username": "nobody@abcinc.example", "password": "wrong-password"})
    HttpClient().post("/login/", {"username": user.email, "password": password})
    HttpClient().post("/login/", {"username": user.email, "password": password})

    response = reader.get("stats/daily")

    assert response.status_code == HTTPStatus.OK, response.content
    days = response.json()
    today = datetime.now(UTC).date()
    assert len(days) == 30
    assert days[0]["date"] == (today - timedelta(days=29)).isoformat()
    assert days[-1] == {
        "date": today.isoformat(),
        "sign_ins_successful": 2,
        "sign_ins_failed": 2,
        "access_tokens_issued": 1,  # the reader's own, not yet written to the table
        "access_tokens_by_grant_type": NO_TOKENS | {"client_credentials": 1},
    }
    assert all(day["sign_ins_successful"] == day["sign_ins_failed"] == 0 for day in days[:-1])
    assert all(day["access_tokens_issued"] == 0 for day in days[:-1])


def test_tokens_issued_per_utc_day_by_grant_type(admin_api):
    def issued(day: date, grant_type: str, count: int, *, audience="https://api.example", client_id="app"):
        TokenIssuance.objects.create(
            day=day, grant_type=grant_type, audience=audience, client_id=client_id, count=count
        )

    issued(date(2026, 3, 1), "authorization_code", 4)
    issued(date(2026, 3, 1), "authorization_code", 3, client_id="other-app")
    issued(date(2026, 3, 1), "refresh_token", 10, audience="")
    issued(date(2026, 3, 3), "client_credentials", 7)
    issued(date(2026, 3, 3), "client_credentials", 1, audience="https://other.example")
    issued(date(2026, 2, 28), "client_credentials", 100)
    issued(date(2026, 3, 4), "client_credentials", 100)

    days = admin_api.get("stats/daily?from=2026-03-01&to=2026-03-03").json()

    assert [
        (day["date"], day["access_tokens_issued"], day["access_tokens_by_grant_type"]) for day in days
    ] == [
        ("2026-03-01", 17, NO_TOKENS | {"authorization_code": 7, "refresh_token": 10}),
        ("2026-03-02", 0, NO_TOKENS),
        ("2026-03-03", 8, NO_TOKENS | {"client_credentials": 8}),
    ]


def test_tokens_issued_today_include_those_written_and_those_held(admin_api):
    today = datetime.now(UTC).date()
    TokenIssuance.objects.create(
        day=today, grant_type="refresh_token", audience="", client_id=admin_api.client_id, count=5
    )  # another process's

    days = admin_api.get(f"stats/daily?from={today.isoformat()}").json()

    assert [(day["access_tokens_issued"], day["access_tokens_by_grant_type"]) for day in days] == [
        (6, NO_TOKENS | {"refresh_token": 5, "client_credentials": 1}),
    ]


def test_each_event_counts_on_its_utc_day(admin_api, user):
    def event(action: str, when: datetime) -> None:
        _at(audit_record(actor=None, action=action, target=user), when)

    event("security.login", datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC))
    event("security.login", datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    event("security.login_failure", datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    event("security.login_failure", datetime(2026, 3, 4, 8, 0, tzinfo=UTC))
    event("security.logout", datetime(2026, 3, 2, 13, 0, tzinfo=UTC))
    event("security.lockout", datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    event("security.login", datetime(2026, 3, 5, 0, 0, tzinfo=UTC))

    days = admin_api.get("stats/daily?from=2026-03-01&to=2026-03-04").json()

    assert [(day["date"], day["sign_ins_successful"], day["sign_ins_failed"]) for day in days] == [
        ("2026-03-01", 1, 0),
        ("2026-03-02", 1, 1),
        ("2026-03-03", 0, 0),
        ("2026-03-04", 0, 1),
    ]


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ("?from=2025-01-01&to=2026-01-02", "#/from"),
        ("?from=0001-01-01", "#/from"),
        ("?from=March", "#/from"),
        ("?to=2026-02-30", "#/to"),
    ],
)
def test_bad_ranges_are_400_on_their_parameter(admin_api, query, pointer):
    response = admin_api.get(f"stats/daily{query}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert pointer in _errors(response)


@pytest.mark.parametrize(
    ("query", "first", "count"),
    [
        ("?from=2025-01-01&to=2026-01-01", date(2025, 1, 1), 366),
        ("?from=9999-12-01&to=9999-12-31", date(9999, 12, 1), 31),
        ("?to=0001-01-05", date(1, 1, 1), 5),
        ("?from=2026-03-05&to=2026-03-04", None, 0),
        (f"?from={date.max.isoformat()}", None, 0),
    ],
)
def test_ranges_up_to_a_year_backwards_and_at_the_ends_of_the_calendar(admin_api, query, first, count):
    response = admin_api.get(f"stats/daily{query}")

    assert response.status_code == HTTPStatus.OK, response.content
    assert len(response.json()) == count
    if first is not None:
        assert response.json()[0]["date"] == first.isoformat()


def test_stats_need_read_stats(machine_token):
    caller = machine_token(*(name for name in MANAGEMENT_SCOPES if name != "read:stats"))

    response = caller.get("stats/daily")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "insufficient_scope"
    assert "read:stats" in response.json()["detail"]
