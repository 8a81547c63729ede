"""The lockouts page says where each counter stands: locked until when, still counting, or
expired (reset at the next attempt), locked ones first."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from accounts.selectors import lockout_attempts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _lockout_rules(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = 0.25  # hours: 15 minutes


def _failures(username: str, failures: int, minutes_ago: float, ip: str = "192.0.2.1") -> AccessAttempt:
    attempt = AccessAttempt.objects.create(
        username=username,
        ip_address=ip,
        user_agent="Firefox",
        http_accept="*/*",
        path_info="/login/",
        get_data="",
        post_data="",
        failures_since_start=failures,
    )
    # The time axes counts from: set after create (the field is auto_now_add).
    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=timezone.now() - timedelta(minutes=minutes_ago)
    )
    attempt.refresh_from_db()
    return attempt


def _rows(staff_client) -> list[str]:
    response = staff_client.get("/dashboard/lockouts/")
    assert response.status_code == HTTPStatus.OK
    content = html.unescape(response.content.decode())
    return [
        re.sub(r"\s+", " ", row) for row in re.findall(r'<tr class="lockout-\w+">(.*?)</tr>', content, re.S)
    ]


def test_a_locked_account_shows_when_the_lockout_lifts(staff_client):
    attempt = _failures("mallory@abcinc.example", 5, minutes_ago=3)
    (row,) = _rows(staff_client)
    until = attempt.attempt_time + timedelta(minutes=15)
    assert "locked</span> until" in row
    assert f"{until:%Y-%m-%d %H:%M} UTC</time>" in row
    assert f'datetime="{until.isoformat()}"' in row


def test_an_account_still_under_the_limit_is_counting(staff_client):
    attempt = _failures("alice@abcinc.example", 2, minutes_ago=1)
    (row,) = _rows(staff_client)
    assert "counting 2 of 5" in row
    assert "locked" not in row
    stops = attempt.attempt_time + timedelta(minutes=15)
    assert f'stop counting at <time datetime="{stops.isoformat()}">{stops:%Y-%m-%d %H:%M} UTC</time>' in row


def test_failures_older_than_the_cool_off_are_expired(staff_client):
    attempt = _failures("bob@abcinc.example", 5, minutes_ago=20)
    (row,) = _rows(staff_client)
    expired = attempt.attempt_time + timedelta(minutes=15)
    assert (
        f'expired</span> at <time datetime="{expired.isoformat()}">{expired:%Y-%m-%d %H:%M} UTC</time>' in row
    )
    assert "will reset at next attempt" in row
    assert "locked" not in row.replace("expired", "")


def test_failures_from_several_addresses_lock_the_account_until_enough_expire(staff_client):
    # 3 + 2 within the cool-off lock it; when the older 2 expire (in 5 minutes) it is 3 of 5.
    newer = _failures("carol@abcinc.example", 3, minutes_ago=2, ip="192.0.2.7")
    older = _failures("carol@abcinc.example", 2, minutes_ago=10, ip="198.51.100.9")
    rows = _rows(staff_client)
    lifts = older.attempt_time + timedelta(minutes=15)
    assert len(rows) == 2
    for row in rows:
        assert f'locked</span> until <time datetime="{lifts.isoformat()}">' in row
    assert (newer.attempt_time + timedelta(minutes=15)).isoformat() not in " ".join(rows)


def test_an_expired_row_does_not_count_towards_a_lockout(staff_client):
    _failures("dave@abcinc.example", 3, minutes_ago=1)
    _failures("dave@abcinc.example", 4, minutes_ago=30, ip="198.51.100.9")
    counting, expired = _rows(staff_client)
    assert "counting 3 of 5" in counting
    assert "expired</span>" in expired


def test_locked_rows_come_first_then_counting_then_expired(staff_client):
    _failures("old@abcinc.example", 6, minutes_ago=40)
    _failures("trying@abcinc.example", 1, minutes_ago=0.5)
    _failures("locked@abcinc.example", 5, minutes_ago=5)
    rows = _rows(staff_client)
    assert ["locked@" in rows[0], "trying@" in rows[1], "old@" in rows[2]] == [True, True, True]


def test_the_state_is_computed_for_a_given_moment():
    attempt = _failures("erin@abcinc.example", 5, minutes_ago=0)
    attempt_time = attempt.attempt_time
    states = [
        lockout_attempts(now=attempt_time + timedelta(minutes=minutes))[0].state
        for minutes in (0, 14.9, 15, 60)
    ]
    assert states == ["locked", "locked", "expired", "expired"]


def test_without_a_cool_off_a_lockout_lasts_until_cleared(staff_client, settings):
    settings.AXES_COOLOFF_TIME = None
    _failures("frank@abcinc.example", 5, minutes_ago=600)
    (row,) = _rows(staff_client)
    assert "locked</span> until cleared" in row


def test_the_page_states_the_rules(staff_client):
    response = staff_client.get("/dashboard/lockouts/")
    content = response.content.decode()
    assert "After 5 failed sign-ins within 15 minutes" in content
    assert "Times are in UTC." in content
    assert "No failed sign-ins are being counted." in content
