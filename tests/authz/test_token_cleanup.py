"""The periodic clean-up of expired tokens and grants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model

from authz.oauth.tasks import clear_expired_tokens
from tests.oauth import Pkce, authorize_url, consent, exchange, get_code, redirect_params

pytestmark = pytest.mark.django_db
AccessToken = get_access_token_model()
Grant = get_grant_model()


def test_expired_tokens_and_codes_are_deleted(public_client, user_client, timesheets_api, settings):
    pkce = Pkce.new()
    exchange(
        user_client,
        public_client.client_id,
        get_code(user_client, public_client.client_id, pkce),
        pkce.verifier,
    )
    redirect_params(
        consent(user_client, authorize_url(public_client.client_id, Pkce.new()))
    )  # an unused code
    live_token = AccessToken.objects.create(
        user=None,
        application=public_client,
        token="live",
        expires=timezone.now() + timedelta(hours=1),
        scope="",
    )
    AccessToken.objects.exclude(pk=live_token.pk).update(expires=timezone.now() - timedelta(days=1))
    Grant.objects.update(expires=timezone.now() - timedelta(minutes=5))

    clear_expired_tokens.delay()

    assert list(AccessToken.objects.values_list("pk", flat=True)) == [live_token.pk]
    assert not Grant.objects.exists()


def test_authenticator_apps_left_unconfirmed_are_deleted_hourly(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    stale = TOTPDevice.objects.create(user=user, name="abandoned", confirmed=False)
    fresh = TOTPDevice.objects.create(user=user, name="being set up", confirmed=False)
    confirmed = TOTPDevice.objects.create(user=user, name="in use", confirmed=True)
    TOTPDevice.objects.filter(pk__in=[stale.pk, confirmed.pk]).update(
        created_at=timezone.now() - timedelta(days=1)
    )

    clear_expired_tokens.delay()

    assert set(TOTPDevice.objects.values_list("pk", flat=True)) == {fresh.pk, confirmed.pk}
