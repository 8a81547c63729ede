"""Revocation is a durable fact: no restart, cache flush or unrelated traffic undoes it."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.caching import forget_all
from apis.models import Revocation
from apis.revocation import revocations_purge
from apis.services import api_create, api_delete
from authz.oauth.tasks import clear_expired_tokens
from tests.conftest import TIMESHEETS_SCOPES
from tests.oauth import TIMESHEETS_API, Pkce, exchange, get_code

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]
SCOPE = "openid offline_access read:timesheets"


def _api(token: str) -> int:
    return HttpClient().get("/test-api/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def _sign_in(http, client) -> dict:
    pkce = Pkce.new()
    code = get_code(http, client.client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API)
    return exchange(http, client.client_id, code, pkce.verifier).json()


def _revoke(client, token: str) -> None:
    response = HttpClient().post("/oauth/revoke", {"token": token, "client_id": client.client_id})
    assert response.status_code == HTTPStatus.OK


def _restart() -> None:
    """What a restart of every process and of the cache server forgets."""
    forget_all()
    cache.clear()


def test_a_restart_never_brings_a_revoked_token_back(public_client, user_client, timesheets_api):
    tokens = _sign_in(user_client, public_client)
    _revoke(public_client, tokens["refresh_token"])
    assert _api(tokens["access_token"]) == HTTPStatus.UNAUTHORIZED

    _restart()
    assert _api(tokens["access_token"]) == HTTPStatus.UNAUTHORIZED


def test_unrelated_traffic_cannot_evict_a_revocation(public_client, user_client, timesheets_api):
    tokens = _sign_in(user_client, public_client)
    _revoke(public_client, tokens["access_token"])
    # Far more entries than the local-memory cache keeps (300 by default), as busy sign-in
    # pages would write: a revocation held only there would be culled.
    for index in range(1000):
        cache.set(f"unrelated:{index}", index, 600)
    forget_all()
    assert _api(tokens["access_token"]) == HTTPStatus.UNAUTHORIZED


def test_other_tokens_keep_working_after_a_restart(public_client, user_client, timesheets_api):
    revoked, kept = _sign_in(user_client, public_client), _sign_in(user_client, public_client)
    _revoke(public_client, revoked["refresh_token"])
    _restart()
    assert _api(revoked["access_token"]) == HTTPStatus.UNAUTHORIZED
    assert _api(kept["access_token"]) == HTTPStatus.OK


def test_an_api_registered_again_refuses_the_old_apis_tokens(public_client, user_client, timesheets_api):
    old = _sign_in(user_client, public_client)
    assert _api(old["access_token"]) == HTTPStatus.OK
    api_delete(api=timesheets_api)
    api_create(identifier=TIMESHEETS_API, name="Timesheets API (again)", scopes=TIMESHEETS_SCOPES)
    forget_all()
    assert _api(old["access_token"]) == HTTPStatus.UNAUTHORIZED


def test_facts_are_kept_until_no_token_can_need_them_then_purged(public_client, user_client, timesheets_api):
    tokens = _sign_in(user_client, public_client)
    _revoke(public_client, tokens["refresh_token"])
    fact = Revocation.objects.get(kind=Revocation.Kind.GRANT)
    assert fact.expires_at > timezone.now() + timedelta(days=30)  # outlives the longest token

    clear_expired_tokens.delay()  # the hourly clean-up keeps a live fact
    assert Revocation.objects.filter(pk=fact.pk).exists()
    assert _api(tokens["access_token"]) == HTTPStatus.UNAUTHORIZED

    Revocation.objects.filter(pk=fact.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert revocations_purge() == 1
    assert not Revocation.objects.filter(pk=fact.pk).exists()


def test_a_code_replayed_after_a_restart_still_ends_its_grant(public_client, user_client, timesheets_api):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API)
    first = exchange(user_client, public_client.client_id, code, pkce.verifier).json()
    assert _api(first["access_token"]) == HTTPStatus.OK

    _restart()  # the memory of redeemed codes must not live in a cache
    replay = exchange(user_client, public_client.client_id, code, pkce.verifier)
    assert replay.json()["error"] == "invalid_grant"
    assert _api(first["access_token"]) == HTTPStatus.UNAUTHORIZED
