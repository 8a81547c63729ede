"""Access tokens are RFC 9068 JWTs for one audience, signed as that API is configured."""

from __future__ import annotations

import json
from http import HTTPStatus

import jwt
import pytest
from django.test import Client as HttpClient

from apis.keys import signing_key_current
from apis.services import api_update
from authz.models import AccessTokenRecord
from clients.models import Client
from clients.services import client_create, client_grant_set
from tests.oauth import (
    ISSUER,
    TIMESHEETS_API,
    Pkce,
    authorize_url,
    basic_auth,
    client_credentials,
    exchange,
    get_code,
    redirect_params,
)

pytestmark = pytest.mark.django_db
USERINFO = f"{ISSUER}/userinfo"


def _tokens(http, client, scope: str, audience: str | None = TIMESHEETS_API) -> dict:
    pkce = Pkce.new()
    code = get_code(http, client.client_id, pkce, scope=scope, audience=audience)
    response = exchange(http, client.client_id, code, pkce.verifier)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def _rs256_claims(token: str, audience: str) -> dict:
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert header["kid"] == signing_key_current().kid
    jwks = jwt.PyJWKSet.from_json(HttpClient().get("/.well-known/jwks.json").content.decode())
    key = jwks[header["kid"]].key
    return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=ISSUER)


def test_user_access_token_claims(public_client, user, user_client, timesheets_api):
    body = _tokens(user_client, public_client, "openid read:timesheets create:timesheets bogus:scope")
    claims = _rs256_claims(body["access_token"], TIMESHEETS_API)

    assert claims["iss"] == ISSUER
    assert claims["sub"] == str(user.sub)
    assert claims["aud"] == [TIMESHEETS_API, USERINFO]
    assert claims["azp"] == claims["client_id"] == public_client.client_id
    assert claims["scope"] == "openid read:timesheets create:timesheets"  # bogus:scope dropped
    assert claims["permissions"] == ["read:timesheets", "create:timesheets"]
    assert claims["exp"] - claims["iat"] == timesheets_api.token_lifetime == body["expires_in"]
    assert body["scope"] == claims["scope"]

    record = AccessTokenRecord.objects.get(jti=claims["jti"])
    assert record.audience == TIMESHEETS_API
    assert record.access_token.user == user


def test_permissions_claim_only_when_the_api_asks(public_client, user_client, timesheets_api):
    api_update(api=timesheets_api, add_permissions_claim=False)
    body = _tokens(user_client, public_client, "openid read:timesheets")
    assert "permissions" not in _rs256_claims(body["access_token"], TIMESHEETS_API)


def test_hs256_api_tokens_verify_with_the_api_secret(public_client, user_client, hs256_api):
    body = _tokens(user_client, public_client, "read:reports", audience=hs256_api.identifier)
    token = body["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    assert header["typ"] == "at+jwt"
    assert header["kid"].startswith("hs-")
    claims = jwt.decode(token, hs256_api.hs256_secret, algorithms=["HS256"], audience=hs256_api.identifier)
    assert claims["aud"] == hs256_api.identifier  # no openid: the API only
    assert claims["scope"] == "read:reports"
    assert body["expires_in"] == 600
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token,
            "another-secret-of-sufficient-length-000000",
            algorithms=["HS256"],
            audience=hs256_api.identifier,
        )


def test_without_an_audience_the_token_is_for_userinfo_only(public_client, user_client, timesheets_api):
    body = _tokens(user_client, public_client, "openid email read:timesheets", audience=None)
    claims = _rs256_claims(body["access_token"], USERINFO)
    assert claims["aud"] == USERINFO
    assert claims["scope"] == "openid email"
    assert body["expires_in"] == 3600
    userinfo = user_client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert userinfo.status_code == HTTPStatus.OK
    assert userinfo.json()["email"] == "alice@abcinc.example"


def test_unknown_audience_is_refused_at_authorize(public_client, user_client, timesheets_api):
    url = authorize_url(
        public_client.client_id, Pkce.new(), audience="https://unknown.example/api", state="u"
    )
    response = user_client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    params = redirect_params(response)
    assert params["error"] == "invalid_target"
    assert params["state"] == "u"
    assert params["iss"] == ISSUER
    assert "code" not in params


def test_two_audiences_are_refused(confidential_client, timesheets_api, hs256_api):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    client_grant_set(client=client, api=hs256_api, scopes=["read:reports"])
    response = HttpClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials", "resource": [TIMESHEETS_API, hs256_api.identifier]},
        HTTP_AUTHORIZATION=_basic(client, secret),
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_target"


# --- Refresh tokens only for offline access to an API that allows it ------------------------


@pytest.mark.parametrize(
    ("scope", "audience", "api_allows", "issued"),
    [
        ("openid offline_access read:timesheets", TIMESHEETS_API, True, True),
        ("openid read:timesheets", TIMESHEETS_API, True, False),
        ("openid offline_access read:timesheets", TIMESHEETS_API, False, False),
        ("openid offline_access", None, True, False),
    ],
)
def test_refresh_token_needs_offline_access_and_an_api_that_allows_it(
    public_client, user_client, timesheets_api, scope, audience, api_allows, issued
):
    api_update(api=timesheets_api, allow_offline_access=api_allows)
    body = _tokens(user_client, public_client, scope, audience=audience)
    assert ("refresh_token" in body) is issued


def test_refreshed_access_token_keeps_audience_and_grant(public_client, user_client, timesheets_api):
    body = _tokens(user_client, public_client, "openid offline_access read:timesheets")
    first = _rs256_claims(body["access_token"], TIMESHEETS_API)
    refreshed = HttpClient().post(
        "/oauth/token",
        json.dumps(
            {
                "grant_type": "refresh_token",
                "refresh_token": body["refresh_token"],
                "client_id": public_client.client_id,
            }
        ),
        content_type="application/json",
    )
    assert refreshed.status_code == HTTPStatus.OK, refreshed.content
    second = _rs256_claims(refreshed.json()["access_token"], TIMESHEETS_API)
    assert second["aud"] == first["aud"]
    assert second["jti"] != first["jti"]
    grants = {r.grant_id for r in AccessTokenRecord.objects.filter(jti__in=[first["jti"], second["jti"]])}
    assert len(grants) == 1


# --- JSON and form bodies -------------------------------------------------------------------


def _basic(client, secret: str) -> str:
    return basic_auth(client.client_id, secret)


@pytest.mark.parametrize("body_format", ["form", "json"])
def test_client_credentials_token(timesheets_api, body_format):
    client, secret = client_create(
        app_type=Client.AppType.M2M, name="Batch (post)", token_endpoint_auth_method=Client.AuthMethod.POST
    )
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets", "create:timesheets"])
    params = {
        "grant_type": "client_credentials",
        "audience": TIMESHEETS_API,
        "scope": "read:timesheets openid offline_access",
        "client_id": client.client_id,
        "client_secret": secret,
    }
    http = HttpClient()
    if body_format == "json":
        response = http.post("/oauth/token", json.dumps(params), content_type="application/json")
    else:
        response = http.post("/oauth/token", params)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert "refresh_token" not in body
    assert body["scope"] == "read:timesheets"  # no OpenID Connect scopes for a machine
    claims = _rs256_claims(body["access_token"], TIMESHEETS_API)
    assert claims["sub"] == f"{client.client_id}@clients"
    assert claims["gty"] == "client-credentials"
    assert claims["aud"] == TIMESHEETS_API


@pytest.mark.parametrize("body_format", ["form", "json"])
def test_authorization_code_exchange_takes_json_and_form(
    public_client, user_client, timesheets_api, body_format
):
    pkce = Pkce.new()
    code = get_code(
        user_client, public_client.client_id, pkce, scope="openid read:timesheets", audience=TIMESHEETS_API
    )
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "com.abcinc.timesheets://callback",
        "client_id": public_client.client_id,
        "code_verifier": pkce.verifier,
    }
    if body_format == "json":
        response = HttpClient().post("/oauth/token", json.dumps(params), content_type="application/json")
    else:
        response = HttpClient().post("/oauth/token", params)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["token_type"] == "Bearer"


def test_client_credentials_needs_an_audience(confidential_client, timesheets_api):
    client, secret = confidential_client
    response = client_credentials(client.client_id, secret)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_request"
    assert "audience" in response.json()["error_description"]


def test_client_credentials_with_an_unknown_audience_is_invalid_target(confidential_client, timesheets_api):
    client, secret = confidential_client
    response = client_credentials(client.client_id, secret, audience="https://nope.example/api")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_target"


@pytest.mark.parametrize(
    ("body", "description"),
    [
        (b"{not json", "not valid JSON"),
        (b'["grant_type", "client_credentials"]', "JSON object"),
        (b'{"grant_type": {"nested": 1}}', "must be a string"),
        (b'{"grant_type": null}', "must be a string"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_bad_json_bodies_get_an_rfc6749_error(body, description):
    response = HttpClient().post("/oauth/token", body, content_type="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    assert response.json()["error"] == "invalid_request"
    assert description in response.json()["error_description"]


def test_token_errors_follow_rfc6749(public_client):
    response = HttpClient().post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "code": "nope",
            "client_id": public_client.client_id,
            "redirect_uri": "com.abcinc.timesheets://callback",
            "code_verifier": "x" * 43,
        },
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    assert set(response.json()) <= {"error", "error_description", "error_uri"}
    assert response.json()["error"] == "invalid_grant"
