"""/userinfo answers any live access token meant for it, as the APIs verify theirs.

The seed's mobile flow asks for an API and OpenID scopes at once; its access token names
the userinfo URL among its audiences and must be answered (OIDC Core §5.3). Refusals
follow RFC 6750: 401 ``invalid_token`` or 403 ``insufficient_scope``, with a challenge.
"""

from __future__ import annotations

import time
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient

from apis.tokens import mint_access_token
from clients.services import client_create, client_grant_set, client_update
from tests.oauth import ISSUER, TIMESHEETS_API, Pkce, client_credentials, exchange, get_code
from tests.security.helpers import jwt_parts

pytestmark = pytest.mark.django_db
SEED_SCOPE = "openid profile email offline_access read:timesheets"
CHALLENGE = 'Bearer realm="abc-identity"'
FORM = "application/x-www-form-urlencoded"


def _tokens(http: HttpClient, client_id: str, scope: str, audience: str | None = TIMESHEETS_API) -> dict:
    pkce = Pkce.new()
    code = get_code(http, client_id, pkce, scope=scope, audience=audience)
    response = exchange(http, client_id, code, pkce.verifier)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


@pytest.fixture
def seed_tokens(public_client, user_client, timesheets_api) -> dict:
    """The mobile app's flow as the README and seed_demo describe it."""
    return _tokens(user_client, public_client.client_id, SEED_SCOPE)


def _userinfo(token: str | None, method: str = "get", **kwargs):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return getattr(HttpClient(), method)("/userinfo", **{**headers, **kwargs})


def _assert_refused(response, status: int, error: str) -> None:
    assert response.status_code == status, response.content
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith(CHALLENGE)
    assert f'error="{error}"' in challenge
    assert response.json()["error"] == error
    assert response["Cache-Control"] == "no-store"
    assert b'"sub"' not in response.content


# --- Answered ---------------------------------------------------------------------------------


def test_the_seed_flows_token_gets_the_claims_its_scopes_allow(seed_tokens, user):
    claims = jwt_parts(seed_tokens["access_token"])[1]
    assert f"{ISSUER}/userinfo" in claims["aud"]
    response = _userinfo(seed_tokens["access_token"])
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "sub": str(user.sub),
        "name": "Alice Anders",
        "nickname": "alice",
        "picture": "https://abcinc.example/people/alice.png",
        "updated_at": int(user.updated_at.timestamp()),
        "email": "alice@abcinc.example",
        "email_verified": True,
    }


def test_post_with_the_authorization_header(seed_tokens, user):
    response = _userinfo(seed_tokens["access_token"], "post")
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["sub"] == str(user.sub)


def test_post_with_the_token_in_a_form_body(seed_tokens, user):
    # RFC 6750 §2.2, as OIDC Core §5.3.1 allows.
    body = urlencode({"access_token": seed_tokens["access_token"]})
    response = HttpClient().post("/userinfo", body, content_type=FORM)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["sub"] == str(user.sub)


def test_the_token_in_header_and_body_at_once_is_invalid_request(seed_tokens):
    token = seed_tokens["access_token"]
    response = _userinfo(token, "post", data=urlencode({"access_token": token}), content_type=FORM)
    _assert_refused(response, HTTPStatus.BAD_REQUEST, "invalid_request")


def test_the_claims_follow_the_granted_scopes(public_client, user_client, timesheets_api, user):
    token = _tokens(user_client, public_client.client_id, "openid email read:timesheets")["access_token"]
    assert _userinfo(token).json() == {
        "sub": str(user.sub),
        "email": "alice@abcinc.example",
        "email_verified": True,
    }


def test_an_audience_less_token_still_works(public_client, user_client, user):
    token = _tokens(user_client, public_client.client_id, "openid profile", audience=None)["access_token"]
    response = _userinfo(token)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["sub"] == str(user.sub)
    assert "email" not in response.json()
    assert response.json()["name"] == "Alice Anders"


def test_an_hs256_apis_token_with_openid_works(public_client, user_client, hs256_api, user):
    # Signed with that API's secret, which this server holds: still a token for /userinfo.
    token = _tokens(user_client, public_client.client_id, "openid read:reports", hs256_api.identifier)
    assert jwt_parts(token["access_token"])[0]["alg"] == "HS256"
    response = _userinfo(token["access_token"])
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json() == {"sub": str(user.sub)}


def test_cors_for_an_allowed_origin(seed_tokens, public_client):
    spa, _ = client_create(app_type="spa", name="SPA", redirect_uris=["https://spa.abcinc.example/cb"])
    client_update(client=spa, allowed_origins="https://spa.abcinc.example")
    origin = "https://spa.abcinc.example"
    preflight = HttpClient().options("/userinfo", HTTP_ORIGIN=origin)
    assert preflight.status_code == HTTPStatus.NO_CONTENT
    assert preflight["Access-Control-Allow-Origin"] == origin
    assert "Authorization" in preflight["Access-Control-Allow-Headers"]
    answered = _userinfo(seed_tokens["access_token"], HTTP_ORIGIN=origin)
    assert answered["Access-Control-Allow-Origin"] == origin
    foreign = _userinfo(seed_tokens["access_token"], HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in foreign


# --- Refused ----------------------------------------------------------------------------------


def test_no_token_is_a_bare_challenge():
    response = _userinfo(None)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == CHALLENGE
    assert response["Cache-Control"] == "no-store"


def test_a_token_without_openid_is_insufficient_scope(public_client, user_client):
    token = _tokens(user_client, public_client.client_id, "profile email", audience=None)["access_token"]
    assert "userinfo" in str(jwt_parts(token)[1]["aud"])
    response = _userinfo(token)
    _assert_refused(response, HTTPStatus.FORBIDDEN, "insufficient_scope")
    assert 'scope="openid"' in response["WWW-Authenticate"]


def test_a_revoked_token_is_refused(seed_tokens, public_client):
    token = seed_tokens["access_token"]
    assert _userinfo(token).status_code == HTTPStatus.OK  # verified once, then remembered
    revoked = HttpClient().post("/oauth/revoke", {"token": token, "client_id": public_client.client_id})
    assert revoked.status_code == HTTPStatus.OK
    _assert_refused(_userinfo(token), HTTPStatus.UNAUTHORIZED, "invalid_token")


def test_an_id_token_is_refused(seed_tokens):
    _assert_refused(_userinfo(seed_tokens["id_token"]), HTTPStatus.UNAUTHORIZED, "invalid_token")


def test_a_token_for_the_api_only_is_refused(public_client, user_client, timesheets_api):
    token = _tokens(user_client, public_client.client_id, "read:timesheets")["access_token"]
    assert jwt_parts(token)[1]["aud"] == TIMESHEETS_API
    _assert_refused(_userinfo(token), HTTPStatus.UNAUTHORIZED, "invalid_token")


def test_a_machine_token_is_refused(confidential_client, timesheets_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    # "openid" alone grants a machine nothing (403 access_denied, issue 12 point 7): ask for
    # an API scope too, so that a token exists to try at /userinfo.
    body = client_credentials(
        client.client_id, secret, audience=TIMESHEETS_API, scope="openid read:timesheets"
    ).json()
    _assert_refused(_userinfo(body["access_token"]), HTTPStatus.UNAUTHORIZED, "invalid_token")


def test_an_expired_token_is_refused(seed_tokens):
    claims = jwt_parts(seed_tokens["access_token"])[1]
    now = int(time.time())
    expired = mint_access_token({**claims, "iat": now - 7200, "exp": now - 3600}, signing=None)
    _assert_refused(_userinfo(expired), HTTPStatus.UNAUTHORIZED, "invalid_token")


def test_a_forged_token_is_refused(seed_tokens):
    header, payload, _signature = seed_tokens["access_token"].split(".")
    _assert_refused(_userinfo(f"{header}.{payload}.AAAA"), HTTPStatus.UNAUTHORIZED, "invalid_token")


def test_a_deactivated_persons_token_is_refused(seed_tokens, user):
    user.is_active = False
    user.save(update_fields=["is_active"])
    _assert_refused(_userinfo(seed_tokens["access_token"]), HTTPStatus.UNAUTHORIZED, "invalid_token")


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Basic abc"])
def test_a_malformed_authorization_header(header):
    response = HttpClient().get("/userinfo", HTTP_AUTHORIZATION=header)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith(CHALLENGE)


def test_other_methods_are_refused(seed_tokens):
    response = _userinfo(seed_tokens["access_token"], "put")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
