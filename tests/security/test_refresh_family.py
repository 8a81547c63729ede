"""Catalogue: a refresh-token family's absolute lifetime outlives the clean-up of its rows.

The absolute lifetime counts from the family's start (the sign-in), which is stored on the
family and never lost: the hourly clean-up deletes rotated-out rows after 30 days, but not
the start. Time moves through ``django.utils.timezone.now``, which the token endpoint, the
validator and django-oauth-toolkit's clean-up all read. See also tests/security/test_refresh.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model

from authz.oauth.tasks import clear_expired_tokens
from clients.models import Client
from clients.services import client_create, client_update
from tests.oauth import MOBILE_CALLBACK

from .helpers import assert_token_error, refresh, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]
RefreshToken = get_refresh_token_model()
DAY = 24 * 3600
NINETY_DAYS = 90 * DAY


@dataclass
class Clock:
    now: datetime

    def at_day(self, start: datetime, days: float) -> None:
        self.now = start + timedelta(days=days)


@pytest.fixture
def clock(monkeypatch) -> Iterator[Clock]:
    clock = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    yield clock


@pytest.fixture
def ninety_days(public_client):
    """The mobile app with a 90-day absolute lifetime (idle stays at its 15-day default)."""
    return client_update(client=public_client, refresh_token_absolute_lifetime=NINETY_DAYS)


def _ok(response) -> dict:
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _refresh_every_ten_days(
    client_id: str, clock: Clock, start: datetime, tokens: dict, *, until: int
) -> dict:
    """An app in daily use: refreshed every ten days (idle lifetime 15) up to day ``until``."""
    for day in range(10, until + 1, 10):
        clock.at_day(start, day)
        tokens = _ok(refresh(client_id, tokens["refresh_token"]))
    return tokens


def _active_family_after_clean_up(client_id: str, clock: Clock, user_client) -> tuple[datetime, dict]:
    """Signed in at day 0, refreshed up to day 80, cleaned up at day 85: the sign-in's row is gone."""
    start = clock.now
    tokens = sign_in(user_client, client_id)
    tokens = _refresh_every_ten_days(client_id, clock, start, tokens, until=80)
    clock.at_day(start, 85)
    clear_expired_tokens()
    # The clean-up deleted every row rotated out more than 30 days ago, the sign-in's too.
    assert not RefreshToken.objects.filter(created__lt=start + timedelta(days=50)).exists()
    assert RefreshToken.objects.exists()
    return start, tokens


def test_after_the_clean_up_the_family_still_ends_90_days_after_sign_in(
    ninety_days, clock, user_client, timesheets_api
):
    start, tokens = _active_family_after_clean_up(ninety_days.client_id, clock, user_client)

    clock.at_day(start, 90.01)
    assert_token_error(refresh(ninety_days.client_id, tokens["refresh_token"]), "invalid_grant")


def test_a_family_within_its_lifetime_keeps_working_after_the_clean_up(
    ninety_days, clock, user_client, timesheets_api
):
    start, tokens = _active_family_after_clean_up(ninety_days.client_id, clock, user_client)

    clock.at_day(start, 89.9)
    tokens = _ok(refresh(ninety_days.client_id, tokens["refresh_token"]))
    clock.at_day(start, 90.01)
    assert_token_error(refresh(ninety_days.client_id, tokens["refresh_token"]), "invalid_grant")


def test_cleaning_up_an_ended_family_never_brings_it_back(ninety_days, clock, user_client, timesheets_api):
    from authz.models import GrantFamily

    start, tokens = _active_family_after_clean_up(ninety_days.client_id, clock, user_client)
    clock.at_day(start, 91)
    clear_expired_tokens()

    # The family is over: its start and its surviving tokens go together, so the
    # fallback for families without a start can never count from a later token.
    assert not GrantFamily.objects.exists()
    assert not RefreshToken.objects.exists()
    assert_token_error(refresh(ninety_days.client_id, tokens["refresh_token"]), "invalid_grant")


def test_the_family_start_is_stored_once_at_sign_in(ninety_days, clock, user, user_client, timesheets_api):
    from authz.models import GrantFamily

    signed_in_at = clock.now
    tokens = sign_in(user_client, ninety_days.client_id)
    clock.at_day(signed_in_at, 3)
    _ok(refresh(ninety_days.client_id, tokens["refresh_token"]))

    family = GrantFamily.objects.get()
    assert family.started_at == signed_in_at
    assert (family.client_id, family.user_id) == (ninety_days.pk, user.pk)
    assert {row.token_family for row in RefreshToken.objects.all()} == {family.grant_id}


def test_the_clean_up_keeps_families_within_their_own_clients_lifetime(
    ninety_days, clock, user_client, timesheets_api
):
    from authz.models import GrantFamily

    thirty_days, _ = client_create(
        app_type=Client.AppType.NATIVE,
        name="Thirty days",
        client_id="thirty",
        redirect_uris=[MOBILE_CALLBACK],
    )
    start = clock.now
    sign_in(user_client, ninety_days.client_id)
    sign_in(user_client, thirty_days.client_id)
    clock.at_day(start, 31)  # past the 30-day default of the other client, within these 90 days
    clear_expired_tokens()
    assert GrantFamily.objects.filter(client=ninety_days).exists()
    assert not GrantFamily.objects.filter(client=thirty_days).exists()
    clock.at_day(start, 90.01)
    clear_expired_tokens()
    assert not GrantFamily.objects.filter(client=ninety_days).exists()


def test_a_family_without_a_stored_start_counts_from_its_oldest_token(
    ninety_days, clock, user_client, timesheets_api
):
    """Families begun before the start was stored (the migration backfills those it finds)."""
    from authz.models import GrantFamily

    start = clock.now
    tokens = sign_in(user_client, ninety_days.client_id)
    clock.at_day(start, 10)
    tokens = _ok(refresh(ninety_days.client_id, tokens["refresh_token"]))
    GrantFamily.objects.all().delete()

    clock.at_day(start, 15)
    tokens = _ok(refresh(ninety_days.client_id, tokens["refresh_token"]))
    # The sign-in's row, now 95 days old; the latest token is fresh (idle is not the reason).
    RefreshToken.objects.exclude(revoked=None).update(created=start - timedelta(days=80))
    assert_token_error(refresh(ninety_days.client_id, tokens["refresh_token"]), "invalid_grant")


def test_the_migration_backfills_the_start_of_families_begun_before_it(
    ninety_days, clock, user, user_client, timesheets_api
):
    from authz.models import GrantFamily

    backfill = import_module("authz.migrations.0003_grant_family").backfill_family_starts
    start = clock.now
    tokens = sign_in(user_client, ninety_days.client_id)
    clock.at_day(start, 10)
    _ok(refresh(ninety_days.client_id, tokens["refresh_token"]))
    grant_id = GrantFamily.objects.get().grant_id
    GrantFamily.objects.all().delete()  # as before the migration

    backfill(django_apps, None)
    backfill(django_apps, None)  # twice is harmless

    family = GrantFamily.objects.get()
    assert (family.grant_id, family.started_at) == (grant_id, start)
    assert (family.client_id, family.user_id) == (ninety_days.pk, user.pk)
