"""The dashboard's overview: what it counts, from which records, and for whom."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.audit import audit_record
from authz.models import TokenIssuance
from timesheets import overview_selectors as selectors
from timesheets.models import Entry

from .conftest import MONDAY, make_entry

NOW = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)
TODAY = NOW.date()
GRANT = TokenIssuance.GrantType
AUTH_CODE, REFRESH, MACHINE = GRANT.AUTHORIZATION_CODE, GRANT.REFRESH_TOKEN, GRANT.CLIENT_CREDENTIALS
API = "https://timesheets.abcinc.example/api"


def _audit(action: str, at: datetime, **after) -> None:
    entry = audit_record(actor=None, action=action, after=after or None)
    entry.at = at
    entry.save(update_fields=["at"])


def _issued(day: date, grant_type: str, client_id: str, count: int, audience: str = API) -> None:
    TokenIssuance.objects.create(
        day=day, grant_type=grant_type, audience=audience, client_id=client_id, count=count
    )


def test_windows_end_now_in_hours_or_days():
    day = selectors.window_for("24h", now=NOW)
    assert len(day.buckets) == 24
    assert (day.buckets[0], day.buckets[-1]) == (
        datetime(2026, 11, 29, 11, tzinfo=UTC),
        datetime(2026, 11, 30, 10, tzinfo=UTC),
    )
    assert day.days == [TODAY - timedelta(days=1), TODAY]
    week = selectors.window_for("7d", now=NOW)
    assert week.days == [TODAY - timedelta(days=6 - offset) for offset in range(7)]
    assert week.buckets[0] == datetime(2026, 11, 24, tzinfo=UTC)
    assert len(selectors.window_for("30d", now=NOW).buckets) == 30


@pytest.mark.django_db
def test_sign_ins_land_in_their_hour_and_older_ones_are_left_out():
    for minute in (1, 2):
        _audit("security.login", NOW.replace(hour=9, minute=minute))
    for minute in (3, 4, 5):
        _audit("security.login_failure", NOW.replace(hour=10, minute=minute))
    _audit("security.lockout", NOW.replace(hour=10, minute=6))
    _audit("security.login", NOW - timedelta(hours=25))  # before the window
    _audit("security.logout", NOW.replace(hour=9))  # not a sign-in
    counts = selectors.sign_ins(selectors.window_for("24h", now=NOW))
    assert (counts.signed_in[-2:], counts.failed[-2:], counts.lockouts[-2:]) == ([2, 0], [0, 3], [0, 1])
    assert (sum(counts.signed_in), sum(counts.failed), sum(counts.lockouts)) == (2, 3, 1)
    week = selectors.sign_ins(selectors.window_for("7d", now=NOW))
    assert (week.signed_in[-2:], week.failed[-1]) == ([1, 2], 3)


@pytest.mark.django_db
def test_security_events_count_denied_attempts_not_entries():
    _audit("security.code_replay", NOW - timedelta(days=1))
    _audit("security.refresh_reuse", NOW - timedelta(days=2))
    _audit("security.refresh_reuse", NOW - timedelta(days=3))
    _audit("security.dashboard_denied", NOW - timedelta(hours=1), count=4)
    _audit("security.dashboard_denied", NOW - timedelta(hours=2), count=1)
    _audit("token.revoke", NOW - timedelta(days=8))  # before the window
    counts = selectors.security_events(selectors.window_for("7d", now=NOW))
    assert counts["security.code_replay"] == 1
    assert counts["security.refresh_reuse"] == 2
    assert counts["security.dashboard_denied"] == 5
    assert counts["token.revoke"] == 0
    assert list(counts) == list(selectors.SECURITY_EVENTS)


@pytest.mark.django_db
def test_tokens_per_day_grant_type_api_and_client():
    _issued(TODAY, MACHINE, "batch", 5)
    _issued(TODAY, AUTH_CODE, "mobile", 2)
    _issued(TODAY, AUTH_CODE, "mobile", 1, audience="")
    _issued(TODAY - timedelta(days=2), REFRESH, "mobile", 4)
    _issued(TODAY - timedelta(days=7), MACHINE, "batch", 100)  # before the window
    tokens = selectors.tokens(selectors.window_for("7d", now=NOW))
    assert tokens.by_grant_type[MACHINE][-1] == 5
    assert tokens.by_grant_type[AUTH_CODE][-1] == 3
    assert tokens.by_grant_type[REFRESH][-3:] == [4, 0, 0]
    assert tokens.total == 12
    assert tokens.by_api == [(API, 11), ("", 1)]
    assert tokens.by_client == [("mobile", 7), ("batch", 5)]


@pytest.mark.django_db
def test_backlog_counts_submitted_hours_per_week_and_names_the_oldest(worker, bob):
    make_entry(worker, status=Entry.Status.SUBMITTED, minutes=450)  # week of MONDAY
    make_entry(worker, status=Entry.Status.SUBMITTED, day=1, minutes=60)
    make_entry(bob, status=Entry.Status.SUBMITTED, day=-7, minutes=30, project="Oldest")
    make_entry(worker, status=Entry.Status.DRAFT, day=2)
    make_entry(worker, status=Entry.Status.APPROVED, day=3)
    backlog = selectors.approvals_backlog()
    assert (backlog.entries, backlog.hours) == (3, Decimal("9"))
    assert backlog.weeks == [(MONDAY - timedelta(days=7), Decimal("0.5")), (MONDAY, Decimal("8.5"))]
    assert backlog.oldest is not None
    assert (backlog.oldest.project, backlog.oldest_worker) == ("Oldest", bob)


@pytest.mark.django_db
def test_backlog_sums_weeks_beyond_those_shown(worker):
    for week in range(selectors.BACKLOG_WEEKS + 2):
        make_entry(worker, status=Entry.Status.SUBMITTED, day=-7 * week, minutes=60)
    backlog = selectors.approvals_backlog()
    assert len(backlog.weeks) == selectors.BACKLOG_WEEKS + 1
    assert backlog.weeks[0] == (None, Decimal(2))
    assert backlog.weeks[-1] == (MONDAY, Decimal(1))


@pytest.mark.django_db
def test_staff_see_the_overview_with_what_happened(staff_client, staff_user):
    _issued(datetime.now(UTC).date(), MACHINE, "test-batch", 3)
    audit_record(actor=None, action="security.login_failure", target_label="x@abcinc.example")
    audit_record(actor=None, action="security.code_replay")
    response = staff_client.get("/dashboard/overview/")
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert re.search(r'data-testid="tokens-total">3<', page)
    assert re.search(r'data-testid="sign-ins-failed">1<', page)
    assert "<title>test-batch: 3</title>" in page
    assert "Authorization code replays: 1</title>" in page
    assert 'role="img" aria-labelledby="tokens-chart-title tokens-chart-desc"' in page


@pytest.mark.django_db
def test_each_chart_links_to_the_log_filtered_to_it(staff_client):
    _issued(datetime.now(UTC).date(), MACHINE, "test-batch", 3)
    page = staff_client.get("/dashboard/overview/?range=30d").content.decode()
    links = [
        parse_qs(urlsplit(href.replace("&amp;", "&")).query)
        for href in re.findall(r'href="(/dashboard/logs/\?[^"]+)"', page)
    ]
    today = datetime.now(UTC).date()
    expected_from = (today - timedelta(days=29)).isoformat()
    assert all(link["from"] == [expected_from] and link["to"] == [today.isoformat()] for link in links)
    filters = [{key: value[0] for key, value in link.items() if key not in ("from", "to")} for link in links]
    assert {"type": "token.issue."} in filters
    assert {"type": "token.issue.client_credentials"} in filters
    assert {"type": "token.issue.", "client": "test-batch"} in filters
    assert {"type": "token.issue.", "api": API} in filters
    assert {"type": "security.login"} in filters
    assert {"type": "security.lockout"} in filters
    assert {"type": "security.refresh_reuse"} in filters


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("asked", "shown"), [("24h", "24h"), ("30d", "30d"), ("", "7d"), ("1y", "7d"), ("<b>", "7d")]
)
def test_the_range_is_one_of_three(staff_client, asked, shown):
    response = staff_client.get("/dashboard/overview/", {"range": asked})
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert re.findall(r'href="\?range=(\w+)" aria-current="page"', page) == [shown]
    assert "<b>" not in page


@pytest.mark.django_db
def test_auditors_may_read_the_overview(auditor_client):
    assert auditor_client.get("/dashboard/overview/").status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_people_who_are_not_staff_are_refused(user_client, client):
    assert user_client.get("/dashboard/overview/").status_code == HTTPStatus.FORBIDDEN
    response = client.get("/dashboard/overview/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/?next=/dashboard/overview/")


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_data(staff_client, worker):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get("/dashboard/overview/?range=30d").status_code == HTTPStatus.OK
        return len(captured)

    baseline = queries()
    for index in range(5):
        _issued(
            datetime.now(UTC).date(),
            MACHINE,
            f"client-{index}",
            index + 1,
            audience=f"https://api{index}.example",
        )
        audit_record(actor=None, action="security.login")
        make_entry(worker, status=Entry.Status.SUBMITTED, day=-7 * index)
    assert queries() == baseline


@pytest.mark.django_db
def test_the_dashboard_home_links_to_the_overview(staff_client):
    assert 'href="/dashboard/overview/"' in staff_client.get("/dashboard/").content.decode()
