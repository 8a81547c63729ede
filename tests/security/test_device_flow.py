"""The device authorization grant (RFC 8628): /oauth/device/code, /activate and the polls.

Each error a device or a person can meet, the interval's growth, expiry (the row's expiry
moved into the past), single issuance, another client's code, the user code's alphabet and
how it may be typed, and the entry page's rate limits.
"""

from __future__ import annotations

import re
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import get_device_grant_model

from accounts.models import User
from authz.models import DeviceAuthorization
from authz.oauth.device import (
    DEVICE_CODE,
    USER_CODE_ALPHABET,
    user_code_new,
    user_code_normalize,
)
from authz.oauth.device_activation import ENTRY_PER_SESSION
from authz.oauth.tasks import clear_expired_tokens
from clients.models import Client
from clients.services import client_create, client_update
from tests.oauth import ISSUER, TIMESHEETS_API, basic_auth, jwks, verify

from .helpers import assert_token_error, jwt_parts

DeviceGrant = get_device_grant_model()
SCOPE = "openid profile offline_access read:timesheets"
FORM = "application/x-www-form-urlencoded"
CODE_PATTERN = re.compile(rf"[{USER_CODE_ALPHABET}]{{4}}-[{USER_CODE_ALPHABET}]{{4}}")


@pytest.fixture
def tv_app(public_client) -> Client:
    return client_update(client=public_client, device_code_enabled=True)


@pytest.fixture
def web_tv_app(db) -> tuple[Client, str]:
    client, secret = client_create(
        app_type=Client.AppType.REGULAR_WEB,
        name="Kiosk (test)",
        client_id="test-kiosk",
        redirect_uris=["https://kiosk.abcinc.example/callback"],
        device_code_enabled=True,
    )
    assert secret is not None
    return client, secret


def device_request(body: dict[str, str], **extra):
    """POST /oauth/device/code as RFC 8628 §3.1 says: a form, URL-encoded."""
    form = urlencode(body)
    return HttpClient().post("/oauth/device/code", form, content_type=FORM, **extra)


def start(client_id: str | None = "test-mobile", **params: str):
    body = {"client_id": client_id, "scope": SCOPE, "audience": TIMESHEETS_API, **params}
    return device_request({k: v for k, v in body.items() if v is not None})


def started(client_id: str = "test-mobile", **params: str) -> dict:
    response = start(client_id, **params)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def poll(device_code: str, client_id: str = "test-mobile", **extra):
    return HttpClient().post(
        "/oauth/token",
        {"grant_type": DEVICE_CODE, "device_code": device_code, "client_id": client_id},
        **extra,
    )


def waited(device_code: str) -> None:
    """As if the device had waited its interval since its last poll."""
    grant = DeviceGrant.objects.get(device_code=device_code)
    DeviceGrant.objects.filter(pk=grant.pk).update(
        last_checked=grant.last_checked - timedelta(seconds=grant.interval)
    )


def answer(http: HttpClient, user_code: str, choice: str = "allow"):
    entered = http.post("/activate", {"user_code": user_code})
    assert entered.status_code == HTTPStatus.FOUND, entered.content
    confirm = entered["Location"]
    page = http.get(confirm)
    assert page.status_code == HTTPStatus.OK
    return http.post(confirm, {"answer": choice})


def test_the_device_gets_codes_to_show_and_to_poll_with(tv_app, timesheets_api):
    response = start()
    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert CODE_PATTERN.fullmatch(data["user_code"])
    assert data["verification_uri"] == f"{ISSUER}/activate"
    assert data["verification_uri_complete"] == f"{ISSUER}/activate?user_code={data['user_code']}"
    assert (data["expires_in"], data["interval"]) == (600, 5)
    assert len(data["device_code"]) >= 40
    grant = DeviceGrant.objects.get(device_code=data["device_code"])
    assert grant.user_code == data["user_code"].replace("-", "")
    assert grant.authorization.audience == TIMESHEETS_API


def test_discovery_advertises_the_device_endpoint(client):
    metadata = client.get("/.well-known/openid-configuration").json()
    assert metadata["device_authorization_endpoint"] == f"{ISSUER}/oauth/device/code"
    assert DEVICE_CODE in metadata["grant_types_supported"]


@pytest.mark.parametrize("client_id", ["no-such-app", None])
def test_an_unknown_or_missing_client_is_refused(tv_app, client_id):
    response = start(client_id)
    if client_id is None:
        assert_token_error(response, "invalid_request")
    else:
        assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)
    assert not DeviceGrant.objects.exists()


def test_an_application_without_the_device_flow_is_unauthorized(public_client, timesheets_api):
    assert_token_error(start(), "unauthorized_client")
    assert not DeviceGrant.objects.exists()


def test_a_confidential_application_authenticates_as_at_the_token_endpoint(web_tv_app, timesheets_api):
    client, secret = web_tv_app
    assert_token_error(start(client.client_id), "invalid_client", HTTPStatus.UNAUTHORIZED)
    wrong = device_request({"scope": "openid"}, HTTP_AUTHORIZATION=basic_auth(client.client_id, "wrong"))
    assert_token_error(wrong, "invalid_client", HTTPStatus.UNAUTHORIZED)
    assert not DeviceGrant.objects.exists()
    right = device_request({"scope": "openid"}, HTTP_AUTHORIZATION=basic_auth(client.client_id, secret))
    assert right.status_code == HTTPStatus.OK, right.content
    # Its polls authenticate too.
    code = right.json()["device_code"]
    assert_token_error(poll(code, client.client_id), "invalid_client", HTTPStatus.UNAUTHORIZED)
    waited(code)
    pending = HttpClient().post(
        "/oauth/token",
        {"grant_type": DEVICE_CODE, "device_code": code},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert_token_error(pending, "authorization_pending")


def test_unknown_scopes_and_audiences_are_refused(tv_app, timesheets_api):
    assert_token_error(start(scope="openid launch:missiles"), "invalid_scope")
    assert_token_error(start(audience="https://nowhere.example/api"), "invalid_target")
    assert not DeviceGrant.objects.exists()


def test_polling_too_fast_is_slow_down_and_the_interval_grows(tv_app, timesheets_api):
    code = started()["device_code"]
    assert_token_error(poll(code), "slow_down")  # before the first interval has passed
    assert DeviceGrant.objects.get(device_code=code).interval == 10
    assert_token_error(poll(code), "slow_down")
    assert DeviceGrant.objects.get(device_code=code).interval == 15
    waited(code)
    assert_token_error(poll(code), "authorization_pending")
    assert_token_error(poll(code), "slow_down")
    assert DeviceGrant.objects.get(device_code=code).interval == 20


def test_an_expired_code_is_expired_token_and_cannot_be_entered(tv_app, timesheets_api, user_client):
    data = started()
    DeviceGrant.objects.filter(device_code=data["device_code"]).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    assert_token_error(poll(data["device_code"]), "expired_token")
    entered = user_client.post("/activate", {"user_code": data["user_code"]})
    assert entered.status_code == HTTPStatus.OK
    assert "not valid or has expired" in entered.content.decode()


def test_a_denied_device_gets_access_denied(tv_app, timesheets_api, user_client):
    data = started()
    denied = answer(user_client, data["user_code"], "deny")
    assert "Device denied" in denied.content.decode()
    waited(data["device_code"])
    assert_token_error(poll(data["device_code"]), "access_denied")


def test_an_approved_device_gets_its_tokens_once(tv_app, timesheets_api, user_client, user, client):
    data = started()
    waited(data["device_code"])
    assert_token_error(poll(data["device_code"]), "authorization_pending")
    allowed = answer(user_client, data["user_code"])
    assert "Device connected" in allowed.content.decode()
    waited(data["device_code"])

    response = poll(data["device_code"])
    assert response.status_code == HTTPStatus.OK, response.content
    tokens = response.json()
    keys = jwks(client)
    access = verify(tokens["access_token"], keys, aud=TIMESHEETS_API, sub=str(user.sub))
    assert access["client_id"] == "test-mobile"
    assert set(access["scope"].split()) == {"openid", "profile", "offline_access", "read:timesheets"}
    id_token = verify(tokens["id_token"], keys, aud="test-mobile", sub=str(user.sub))
    assert id_token["amr"] == ["pwd"]
    assert tokens["refresh_token"]
    assert tokens["token_type"] == "Bearer"

    assert_token_error(poll(data["device_code"]), "invalid_grant")  # issued once
    assert not DeviceGrant.objects.exists()
    # The refresh token works as any other.
    refreshed = HttpClient().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": "test-mobile"},
    )
    assert refreshed.status_code == HTTPStatus.OK, refreshed.content


def test_scopes_are_limited_to_what_the_person_may_have(tv_app, timesheets_api, user_client):
    timesheets_api.rbac_enabled = True
    timesheets_api.save()
    data = started(scope="openid read:timesheets approve:timesheets")
    entered = user_client.post("/activate", {"user_code": data["user_code"]})
    page = user_client.get(entered["Location"]).content.decode()
    assert "Timesheets Mobile (test)" in page
    assert "Approve the timesheets" not in page
    user_client.post(entered["Location"], {"answer": "allow"})
    waited(data["device_code"])
    tokens = poll(data["device_code"]).json()
    assert jwt_parts(tokens["access_token"])[1]["scope"] == "openid"


def test_another_clients_device_code_is_refused(tv_app, other_public_client, timesheets_api, user_client):
    client_update(client=other_public_client, device_code_enabled=True)
    data = started()
    answer(user_client, data["user_code"])
    waited(data["device_code"])
    assert_token_error(poll(data["device_code"], "test-other"), "invalid_grant")
    # Its own client still gets the tokens: the attempt changed nothing.
    assert poll(data["device_code"]).status_code == HTTPStatus.OK


def test_user_codes_avoid_ambiguous_characters_and_are_typed_loosely(tv_app, timesheets_api, user_client):
    codes = {user_code_new() for _ in range(200)}
    assert all(len(code) == 8 and set(code) <= set(USER_CODE_ALPHABET) for code in codes)
    assert not set(USER_CODE_ALPHABET) & set("AEIOU01")
    assert user_code_normalize(" bcdf-ghjk ") == "BCDFGHJK"
    assert user_code_normalize("BCDF GHJ") is None
    assert user_code_normalize("BCDF-GHJ0") is None

    data = started()
    typed = data["user_code"].replace("-", "").lower()
    entered = user_client.post("/activate", {"user_code": f" {typed[:4]} {typed[4:]} "})
    assert entered.status_code == HTTPStatus.FOUND
    assert entered["Location"].startswith(reverse("oauth2_provider:device-confirm"))


def test_a_wrong_code_says_so_without_telling_which_exist(tv_app, timesheets_api, user_client):
    started()
    for typed in ("BCDF-GHJK", "0000-0000", ""):
        response = user_client.post("/activate", {"user_code": typed})
        assert response.status_code == HTTPStatus.OK
        page = response.content.decode()
        assert "field-error" in page
    assert (
        "not valid or has expired"
        in user_client.post("/activate", {"user_code": "XXXX-XXXX"}).content.decode()
    )


def test_the_verification_uri_complete_fills_the_code_in(tv_app, timesheets_api, client):
    data = started()
    page = client.get(data["verification_uri_complete"].removeprefix(ISSUER)).content.decode()
    assert f'value="{data["user_code"]}"' in page


def test_entering_codes_is_rate_limited_per_session_and_per_address(
    tv_app, timesheets_api, user_client, user: User, steady_rate_window
):
    data = started()
    for _ in range(ENTRY_PER_SESSION.requests):
        user_client.post("/activate", {"user_code": "XXXX-XXXX"})
    limited = user_client.post("/activate", {"user_code": data["user_code"]})  # even the right one
    assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many codes typed from here" in limited.content.decode()
    # Other browsers from the same address, each under its own session limit, meet the
    # address's limit.
    statuses = []
    for _ in range(3):
        other = HttpClient()
        for _ in range(ENTRY_PER_SESSION.requests):
            statuses.append(other.post("/activate", {"user_code": "XXXX-XXXX"}).status_code)
    assert HTTPStatus.TOO_MANY_REQUESTS in statuses
    assert statuses.count(HTTPStatus.OK) == 30 - ENTRY_PER_SESSION.requests - 1


def test_the_consent_step_needs_a_sign_in_and_a_valid_ticket(tv_app, timesheets_api, user_client):
    data = started()
    anonymous = HttpClient()
    entered = anonymous.post("/activate", {"user_code": data["user_code"]})
    assert entered.status_code == HTTPStatus.FOUND
    confirm = anonymous.get(entered["Location"])
    assert confirm.status_code == HTTPStatus.FOUND
    assert confirm["Location"].startswith(reverse("accounts:login"))
    forged = user_client.get(reverse("oauth2_provider:device-confirm") + "?ticket=1")
    assert forged.status_code == HTTPStatus.BAD_REQUEST
    assert "no longer valid" in forged.content.decode()
    assert DeviceGrant.objects.get().status == DeviceGrant.AUTHORIZATION_PENDING


def test_the_hourly_clean_up_forgets_device_requests_an_hour_after_expiry(tv_app, timesheets_api):
    late, recent, live = (started()["device_code"] for _ in range(3))
    now = timezone.now()
    DeviceGrant.objects.filter(device_code=late).update(expires=now - timedelta(hours=1, seconds=1))
    DeviceGrant.objects.filter(device_code=recent).update(expires=now - timedelta(minutes=59))
    clear_expired_tokens()
    assert set(DeviceGrant.objects.values_list("device_code", flat=True)) == {recent, live}
    assert not DeviceAuthorization.objects.filter(device_grant__device_code=late).exists()
    assert_token_error(poll(recent), "expired_token")
    assert_token_error(poll(late), "invalid_grant")
