"""Revocation reaches self-contained JWTs: the API refuses them on the next request."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client as HttpClient
from oauth2_provider.models import get_refresh_token_model

from accounts.models import User
from authz.services import refresh_token_revoke, user_access_revoke
from clients.models import Client
from clients.services import client_create, client_delete, client_grant_set
from tests.oauth import TIMESHEETS_API, Pkce, basic_auth, client_credentials, exchange, get_code

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apis.urls")]
RefreshToken = get_refresh_token_model()
SCOPE = "openid offline_access read:timesheets"


def _api(token: str) -> int:
    return HttpClient().get("/test-api/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def _sign_in(http, client) -> dict:
    pkce = Pkce.new()
    code = get_code(http, client.client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API)
    return exchange(http, client.client_id, code, pkce.verifier).json()


def _refresh(client, token: str):
    return HttpClient().post(
        "/oauth/token", {"grant_type": "refresh_token", "refresh_token": token, "client_id": client.client_id}
    )


def test_revoking_the_refresh_token_ends_the_access_token_at_the_api(
    public_client, user_client, timesheets_api
):
    tokens = _sign_in(user_client, public_client)
    assert _api(tokens["access_token"]) == HTTPStatus.OK
    response = HttpClient().post(
        "/oauth/revoke", {"token": tokens["refresh_token"], "client_id": public_client.client_id}
    )
    assert response.status_code == HTTPStatus.OK
    assert _api(tokens["access_token"]) == HTTPStatus.UNAUTHORIZED
    assert _refresh(public_client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_the_access_token_ends_its_grant(public_client, user_client, timesheets_api):
    tokens = _sign_in(user_client, public_client)
    HttpClient().post(
        "/oauth/revoke", {"token": tokens["access_token"], "client_id": public_client.client_id}
    )
    assert _api(tokens["access_token"]) == HTTPStatus.UNAUTHORIZED
    assert _refresh(public_client, tokens["refresh_token"]).status_code == HTTPStatus.BAD_REQUEST


def test_another_sign_in_is_not_affected(public_client, user_client, timesheets_api):
    first = _sign_in(user_client, public_client)
    second = _sign_in(user_client, public_client)
    HttpClient().post(
        "/oauth/revoke", {"token": first["refresh_token"], "client_id": public_client.client_id}
    )
    assert _api(first["access_token"]) == HTTPStatus.UNAUTHORIZED
    assert _api(second["access_token"]) == HTTPStatus.OK


def test_refresh_token_reuse_ends_every_access_token_of_the_family(
    public_client, user_client, timesheets_api
):
    tokens = _sign_in(user_client, public_client)
    rotated = _refresh(public_client, tokens["refresh_token"]).json()
    assert _api(rotated["access_token"]) == HTTPStatus.OK
    assert _refresh(public_client, tokens["refresh_token"]).json()["error"] == "invalid_grant"  # the reuse
    assert _api(rotated["access_token"]) == HTTPStatus.UNAUTHORIZED
    assert _api(tokens["access_token"]) == HTTPStatus.UNAUTHORIZED


def test_a_replayed_code_revokes_what_its_first_redemption_issued(public_client, user_client, timesheets_api):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API)
    first = exchange(user_client, public_client.client_id, code, pkce.verifier).json()
    assert _api(first["access_token"]) == HTTPStatus.OK

    replay = exchange(user_client, public_client.client_id, code, pkce.verifier)
    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["error"] == "invalid_grant"
    assert _api(first["access_token"]) == HTTPStatus.UNAUTHORIZED
    assert _refresh(public_client, first["refresh_token"]).json()["error"] == "invalid_grant"


def test_an_admin_revoking_a_refresh_token_ends_its_access_tokens(public_client, user_client, timesheets_api):
    tokens = _sign_in(user_client, public_client)
    refresh_token_revoke(actor=None, token=RefreshToken.objects.get())
    assert _api(tokens["access_token"]) == HTTPStatus.UNAUTHORIZED


def test_deactivating_a_user_refuses_their_tokens_at_once(public_client, user, user_client, timesheets_api):
    tokens = _sign_in(user_client, public_client)
    user.is_active = False
    user.save()
    user_access_revoke(user=User.objects.get(pk=user.pk))
    assert _api(tokens["access_token"]) == HTTPStatus.UNAUTHORIZED


def test_deleting_a_client_refuses_its_tokens_at_once(confidential_client, timesheets_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    token = client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()["access_token"]
    assert _api(token) == HTTPStatus.OK
    client_delete(client=client)
    assert _api(token) == HTTPStatus.UNAUTHORIZED


def test_a_machine_revokes_its_own_token_which_has_no_row(confidential_client, timesheets_api):
    """A machine client's token is never stored: /oauth/revoke reads the token itself and
    ends its grant on the revocation list, so the API refuses it at once."""
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    token = client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()["access_token"]
    assert _api(token) == HTTPStatus.OK
    response = HttpClient().post(
        "/oauth/revoke", {"token": token}, HTTP_AUTHORIZATION=basic_auth(client.client_id, secret)
    )
    assert response.status_code == HTTPStatus.OK
    assert _api(token) == HTTPStatus.UNAUTHORIZED


def test_another_client_cannot_revoke_a_machines_token(confidential_client, timesheets_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    token = client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()["access_token"]
    other, other_secret = client_create(app_type=Client.AppType.M2M, name="Other", client_id="other-batch")
    response = HttpClient().post(
        "/oauth/revoke", {"token": token}, HTTP_AUTHORIZATION=basic_auth(other.client_id, other_secret or "")
    )
    assert response.status_code == HTTPStatus.OK  # RFC 7009: the same answer, nothing revoked
    assert _api(token) == HTTPStatus.OK
