"""The dedicated client_credentials path answers exactly what the generic oauthlib path answers.

Every request is sent twice: once as the server answers it (the fast path first, stepping
aside for anything unusual) and once with the fast path switched off. Status, headers that
matter, the JSON (tokens aside) and the token's claims (apart from ``jti``, ``iat``, ``exp``
and the grant id) must be identical, so the fast path cannot drift from the policy.
"""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import quote_plus

import jwt
import pytest
from django.test import Client as HttpClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authz.oauth import views
from clients.models import Client
from clients.services import client_create, client_grant_set
from tests.oauth import TIMESHEETS_API

pytestmark = pytest.mark.django_db

VARYING_CLAIMS = {"jti", "iat", "exp", "gid"}
AUDIENCES = [TIMESHEETS_API, "https://reports.abcinc.example/api", "https://unknown.example/api", None]
SCOPES = [
    None,
    "",
    "read:timesheets",
    "read:timesheets create:timesheets",
    " read:timesheets",
    "openid",
    "nope",
    "delete:timesheets",
    "read:reports",
    "read:timesheets  read:timesheets",
]


@pytest.fixture
def machines(timesheets_api, hs256_api, settings) -> dict[str, tuple[Client, str]]:
    settings.RATE_LIMIT_CLIENT_FAILURES = 0  # a refused guess must not turn the next answer into 429
    settings.RATE_LIMIT_PER_IP = 0
    made = {}
    for name, method in (("basic", Client.AuthMethod.BASIC), ("post", Client.AuthMethod.POST)):
        client, secret = client_create(
            app_type=Client.AppType.M2M, name=f"batch {name}", client_id=f"batch-{name}"
        )
        client.token_endpoint_auth_method = method
        client.save()
        client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets", "create:timesheets"])
        client_grant_set(client=client, api=hs256_api, scopes=["read:reports"])
        made[name] = (client, secret or "")
    ungranted, secret = client_create(app_type=Client.AppType.M2M, name="no grant", client_id="no-grant")
    made["ungranted"] = (ungranted, secret or "")
    web, secret = client_create(
        app_type=Client.AppType.REGULAR_WEB,
        name="web",
        client_id="web-app",
        redirect_uris=["https://app.example/callback"],
    )
    made["web"] = (web, secret or "")
    return made


def _request(
    http: HttpClient, client: Client, secret: str, *, via: str, audience, scope, extra, json_body, origin
):
    params: dict[str, Any] = {"grant_type": "client_credentials"}
    if audience is not None:
        params["audience"] = audience
    if scope is not None:
        params["scope"] = scope
    params |= extra
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    if via == "basic":
        pair = f"{quote_plus(client.client_id)}:{quote_plus(secret)}"
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(pair.encode()).decode()
    elif via == "post":
        params |= {"client_id": client.client_id, "client_secret": secret}
    if json_body:
        return http.post("/oauth/token", json.dumps(params), content_type="application/json", **headers)
    return http.post("/oauth/token", params, **headers)


def _comparable(response) -> dict[str, Any]:
    body = json.loads(response.content)
    claims = None
    if "access_token" in body:
        token = body.pop("access_token")
        header = jwt.get_unverified_header(token)
        claims = {
            k: v
            for k, v in jwt.decode(token, options={"verify_signature": False}).items()
            if k not in VARYING_CLAIMS
        }
        claims["header"] = {k: header[k] for k in ("alg", "typ")}
    return {
        "status": response.status_code,
        "body": body,
        "claims": claims,
        "headers": {
            name: response.get(name)
            for name in (
                "Content-Type",
                "Cache-Control",
                "Pragma",
                "WWW-Authenticate",
                "Access-Control-Allow-Origin",
            )
        },
    }


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    who=st.sampled_from(["basic", "post", "ungranted", "web"]),
    via=st.sampled_from(["basic", "post", "none"]),
    wrong_secret=st.booleans(),
    audience=st.sampled_from(AUDIENCES),
    scope=st.sampled_from(SCOPES),
    extra=st.sampled_from([{}, {"foo": "bar"}, {"resource": "https://reports.abcinc.example/api"}]),
    json_body=st.booleans(),
    origin=st.sampled_from([None, "https://app.example"]),
)
def test_fast_path_answers_as_the_generic_path(
    machines, monkeypatch, who, via, wrong_secret, audience, scope, extra, json_body, origin
):
    client, secret = machines[who]
    if wrong_secret:
        secret = secret[:-1] + ("x" if secret[-1] != "x" else "y")
    request = dict(via=via, audience=audience, scope=scope, extra=extra, json_body=json_body, origin=origin)
    answered = _request(HttpClient(), client, secret, **request)
    with monkeypatch.context() as patched:
        patched.setattr(views, "fast_client_credentials", lambda request: None)
        generic = _request(HttpClient(), client, secret, **request)
    assert _comparable(answered) == _comparable(generic)


def test_an_ordinary_request_takes_the_fast_path_and_matches(machines, monkeypatch):
    """The comparison above is not vacuous: ordinary requests are answered by the fast path."""
    taken = []
    fast = views.fast_client_credentials

    def spy(request):
        response = fast(request)
        taken.append(response is not None)
        return response

    monkeypatch.setattr(views, "fast_client_credentials", spy)
    for who, via in (("basic", "basic"), ("post", "post")):
        client, secret = machines[who]
        for json_body in (False, True):
            response = _request(
                HttpClient(),
                client,
                secret,
                via=via,
                audience=TIMESHEETS_API,
                scope="read:timesheets",
                extra={},
                json_body=json_body,
                origin=None,
            )
            assert response.status_code == HTTPStatus.OK
    assert taken == [True, True, True, True]


@pytest.mark.parametrize(
    "change",
    ["wrong secret", "other method", "no grant", "unknown audience", "scope not granted"],
)
def test_the_fast_path_steps_aside_for_what_it_must_refuse(machines, monkeypatch, change):
    """A refusal is never decided by the fast path: it returns None and the generic path
    answers with the error (checked against the generic path above)."""
    taken = []
    fast = views.fast_client_credentials
    monkeypatch.setattr(views, "fast_client_credentials", lambda request: taken.append(fast(request)))
    client, secret = machines["ungranted" if change == "no grant" else "basic"]
    via = "post" if change == "other method" else "basic"
    if change == "wrong secret":
        secret = secret[:-1] + ("x" if secret[-1] != "x" else "y")
    audience = "https://unknown.example/api" if change == "unknown audience" else TIMESHEETS_API
    scope = "delete:timesheets" if change == "scope not granted" else None
    response = _request(
        HttpClient(),
        client,
        secret,
        via=via,
        audience=audience,
        scope=scope,
        extra={},
        json_body=False,
        origin=None,
    )
    assert response.status_code >= HTTPStatus.BAD_REQUEST
    assert taken == [None]
