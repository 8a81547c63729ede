"""Machine clients get what their grant allows; refresh tokens obey the client's lifetimes."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import jwt
import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model

from authz.models import GrantFamily
from clients.models import Client
from clients.services import client_create, client_grant_delete, client_grant_set, client_update
from tests.oauth import TIMESHEETS_API, Pkce, client_credentials, exchange, get_code

pytestmark = pytest.mark.django_db
RefreshToken = get_refresh_token_model()


# --- Client grants ----------------------------------------------------------------------------


def test_without_a_grant_client_credentials_is_access_denied(confidential_client, timesheets_api):
    client, secret = confidential_client
    response = client_credentials(client.client_id, secret, audience=TIMESHEETS_API, scope="read:timesheets")
    assert response.status_code == HTTPStatus.FORBIDDEN  # Auth0's status for access_denied here
    assert response.json()["error"] == "access_denied"
    assert "access_token" not in response.json()


def test_the_token_carries_only_granted_scopes(confidential_client, timesheets_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets", "create:timesheets"])
    response = client_credentials(
        client.client_id, secret, audience=TIMESHEETS_API, scope="read:timesheets approve:timesheets"
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["scope"] == "read:timesheets"  # approve: not granted, dropped
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "read:timesheets"
    # permissions: what this token was granted, never more of the grant (issue 12).
    assert claims["permissions"] == ["read:timesheets"]


def test_asking_for_nothing_gets_everything_granted(confidential_client, timesheets_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets", "create:timesheets"])
    response = client_credentials(client.client_id, secret, audience=TIMESHEETS_API)
    assert set(response.json()["scope"].split()) == {"read:timesheets", "create:timesheets"}


def test_a_grant_for_one_api_does_not_open_another(confidential_client, timesheets_api, hs256_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    response = client_credentials(client.client_id, secret, audience=hs256_api.identifier)
    assert response.json()["error"] == "access_denied"


def test_removing_a_grant_stops_new_tokens(confidential_client, timesheets_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    assert client_credentials(client.client_id, secret, audience=TIMESHEETS_API).status_code == HTTPStatus.OK
    client_grant_delete(client=client, api=timesheets_api)
    assert (
        client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()["error"]
        == "access_denied"
    )


def test_grants_hold_only_the_api_scopes_and_only_for_machines(
    confidential_client, public_client, timesheets_api
):
    client, _ = confidential_client
    with pytest.raises(ValidationError, match="no scope"):
        client_grant_set(client=client, api=timesheets_api, scopes=["read:everything"])
    with pytest.raises(ValidationError, match="machine-to-machine"):
        client_grant_set(client=public_client, api=timesheets_api, scopes=["read:timesheets"])


# --- Refresh tokens ---------------------------------------------------------------------------


def _first_tokens(user_client, client: Client) -> dict:
    pkce = Pkce.new()
    code = get_code(
        user_client,
        client.client_id,
        pkce,
        scope="openid offline_access read:timesheets",
        audience=TIMESHEETS_API,
    )
    return exchange(user_client, client.client_id, code, pkce.verifier).json()


def _refresh(client: Client, token: str):
    return HttpClient().post(
        "/oauth/token", {"grant_type": "refresh_token", "refresh_token": token, "client_id": client.client_id}
    )


def test_without_rotation_the_same_refresh_token_is_returned(public_client, user_client, timesheets_api):
    client_update(client=public_client, rotate_refresh_token=False)
    first = _first_tokens(user_client, public_client)["refresh_token"]
    response = _refresh(public_client, first)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["refresh_token"] == first
    assert _refresh(public_client, first).status_code == HTTPStatus.OK


def test_an_idle_refresh_token_expires(public_client, user_client, timesheets_api):
    client_update(client=public_client, refresh_token_idle_lifetime=3600)
    token = _first_tokens(user_client, public_client)["refresh_token"]
    RefreshToken.objects.update(created=timezone.now() - timedelta(seconds=3601))
    response = _refresh(public_client, token)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_grant"


def test_the_absolute_lifetime_counts_from_sign_in(public_client, user_client, timesheets_api):
    client_update(
        client=public_client, refresh_token_idle_lifetime=3600, refresh_token_absolute_lifetime=7200
    )
    first = _first_tokens(user_client, public_client)["refresh_token"]
    second = _refresh(public_client, first).json()["refresh_token"]
    signed_in = RefreshToken.objects.filter(revoked__isnull=False)  # the family's first token

    def signed_in_ago(seconds: int) -> None:
        # The family's stored start is what counts (issue 12); its first token moves along.
        signed_in.update(created=timezone.now() - timedelta(seconds=seconds))
        GrantFamily.objects.update(started_at=timezone.now() - timedelta(seconds=seconds))

    # Signed in 7,000 s ago, refreshed a moment ago: idle is fine, absolute nearly over.
    signed_in_ago(7000)
    third = _refresh(public_client, second)
    assert third.status_code == HTTPStatus.OK

    signed_in_ago(7201)
    fourth = _refresh(public_client, third.json()["refresh_token"])
    assert fourth.status_code == HTTPStatus.BAD_REQUEST
    assert fourth.json()["error"] == "invalid_grant"


def test_idle_cannot_exceed_absolute(public_client):
    with pytest.raises(ValidationError):
        client_update(
            client=public_client, refresh_token_idle_lifetime=7200, refresh_token_absolute_lifetime=3600
        )


def test_another_client_cannot_use_a_refresh_token_nor_kill_its_family(
    public_client, user_client, timesheets_api
):
    token = _first_tokens(user_client, public_client)["refresh_token"]
    other, _ = client_create(
        app_type=Client.AppType.NATIVE, name="Other", redirect_uris=["com.other.app://callback"]
    )
    stolen = _refresh(other, token)
    assert stolen.status_code == HTTPStatus.BAD_REQUEST
    assert stolen.json()["error"] == "invalid_grant"
    assert _refresh(public_client, token).status_code == HTTPStatus.OK
