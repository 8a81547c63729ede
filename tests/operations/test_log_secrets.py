"""No secret in any log line: a whole flow through the server, logged the way production
logs (``logging_config("json", …)``: the JSON formatter, the request-id filter, the pinned
library loggers) at DEBUG and at INFO, then the captured text searched for every
credential the flow handled. The request lines are there, one per request."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client as HttpClient

from accounts.models import User
from apis.models import Api
from clients.models import Client
from clients.services import client_grant_set, client_introspection_set
from config.settings.operations import logging_config
from tests.oauth import (
    MOBILE_CALLBACK,
    TIMESHEETS_API,
    Pkce,
    authorize_url,
    basic_auth,
    client_credentials,
    consent_fields,
    exchange,
    redirect_params,
)

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.django_db

SCOPE = "openid offline_access read:timesheets"
WRONG_PASSWORD = "wrong-horse-battery-staple-7"
RESET_LINK = re.compile(r"http://testserver(/password/set/\S+/)")


@pytest.fixture(params=["DEBUG", "INFO"])
def production_log(request) -> Iterator[io.StringIO]:
    """The root logger configured as production configures it, writing into a buffer."""
    logging.config.dictConfig(logging_config("json", request.param))
    buffer = io.StringIO()
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        logging.config.dictConfig(settings.LOGGING)


@dataclass
class Flow:
    """What the flow answered, and every secret it handled."""

    responses: list[TestResponse] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)

    def answered(self, response: TestResponse, expected: int = HTTPStatus.OK) -> TestResponse:
        assert response.status_code == expected, response.content[:300]
        self.responses.append(response)
        return response

    def tokens(self, name: str, body: dict[str, Any]) -> None:
        for kind in ("access_token", "refresh_token", "id_token"):
            if kind in body:
                self.secrets[f"{name} {kind}"] = body[kind]


def _sign_in(flow: Flow, http: HttpClient, user: User, password: str, url: str) -> None:
    login = flow.answered(http.get(url), HTTPStatus.FOUND)["Location"]
    flow.answered(http.post(login, {"username": user.email, "password": WRONG_PASSWORD}))
    flow.answered(http.post(login, {"username": user.email, "password": password}), HTTPStatus.FOUND)


def _code(flow: Flow, http: HttpClient, client: Client, pkce: Pkce) -> str:
    """A code through the consent page (or at once, when the consent is remembered)."""
    url = authorize_url(client.client_id, pkce, scope=SCOPE, audience=TIMESHEETS_API)
    response = http.get(url)
    if response.status_code == HTTPStatus.OK:
        flow.answered(response)
        response = http.post("/authorize", {**consent_fields(response), "allow": "Authorize"})
    flow.answered(response, HTTPStatus.FOUND)
    assert response["Location"].startswith(MOBILE_CALLBACK)
    code = redirect_params(response)["code"]
    number = sum(name.startswith("code ") for name in flow.secrets)
    flow.secrets |= {f"code {number}": code, f"code_verifier {number}": pkce.verifier}
    return code


def _person_flow(flow: Flow, user: User, password: str, app: Client) -> tuple[HttpClient, str, str]:
    """Sign-in (a wrong password first), two codes exchanged (form, JSON), a refresh."""
    http = HttpClient()
    first = Pkce.new()
    _sign_in(
        flow, http, user, password, authorize_url(app.client_id, first, scope=SCOPE, audience=TIMESHEETS_API)
    )
    flow.secrets |= {"password": password, "wrong password": WRONG_PASSWORD}
    flow.secrets["session cookie"] = http.cookies[settings.SESSION_COOKIE_NAME].value
    body = flow.answered(exchange(http, app.client_id, _code(flow, http, app, first), first.verifier)).json()
    flow.tokens("form", body)

    second = Pkce.new()
    code = _code(flow, http, app, second)
    sent = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": MOBILE_CALLBACK,
        "client_id": app.client_id,
        "code_verifier": second.verifier,
    }
    flow.tokens(
        "json", flow.answered(HttpClient().post("/oauth/token", sent, content_type="application/json")).json()
    )

    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": body["refresh_token"],
        "client_id": app.client_id,
    }
    refreshed = flow.answered(HttpClient().post("/oauth/token", refresh)).json()
    assert refreshed["refresh_token"] != body["refresh_token"]  # rotated
    flow.tokens("refreshed", refreshed)
    return http, refreshed["access_token"], refreshed["refresh_token"]


def _machine_flow(flow: Flow, machine: tuple[Client, str], access_token: str, refresh_token: str) -> None:
    """client_credentials with a secret, introspection and revocation by HTTP Basic."""
    client, secret = machine
    flow.secrets |= {"client secret": secret, "basic": basic_auth(client.client_id, secret).split()[1]}
    body = flow.answered(client_credentials(client.client_id, secret, audience=TIMESHEETS_API)).json()
    flow.tokens("machine", body)
    authorization = basic_auth(client.client_id, secret)
    introspected = flow.answered(
        HttpClient().post("/oauth/introspect", {"token": access_token}, HTTP_AUTHORIZATION=authorization)
    )
    assert introspected.json()["active"] is True
    flow.answered(HttpClient().get("/api/timesheets", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}"))


def _password_reset(flow: Flow, user: User, capture_on_commit) -> None:
    http = HttpClient()
    with capture_on_commit(execute=True):
        flow.answered(http.post("/password/forgot/", {"email": user.email}), HTTPStatus.FOUND)
    link = RESET_LINK.search(str(mail.outbox[-1].body))
    assert link, mail.outbox[-1].body
    flow.secrets["reset link"] = link.group(1).rstrip("/").rsplit("/", 1)[1]
    flow.answered(http.get(link.group(1)))
    # A link that no longer works: Django logs the 400 with the path, which holds the token.
    flow.answered(http.get(link.group(1).replace("/set/reset/", "/set/invitation/")), HTTPStatus.BAD_REQUEST)


def test_a_whole_flow_logs_its_requests_and_no_secret(
    production_log,
    user,
    password,
    public_client,
    confidential_client,
    timesheets_api: Api,
    django_capture_on_commit_callbacks,
):
    machine, _secret = confidential_client
    client_grant_set(client=machine, api=timesheets_api, scopes=["read:timesheets"])
    client_introspection_set(client=machine, api=timesheets_api, allowed=True)
    flow = Flow()

    http, access_token, refresh_token = _person_flow(flow, user, password, public_client)
    flow.answered(http.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {access_token}"))
    flow.answered(HttpClient().get("/api/timesheets", HTTP_AUTHORIZATION=f"Bearer {access_token}"))
    _machine_flow(flow, confidential_client, access_token, refresh_token)
    revoke = {"token": refresh_token, "client_id": public_client.client_id}
    flow.answered(HttpClient().post("/oauth/revoke", revoke))
    _password_reset(flow, user, django_capture_on_commit_callbacks)

    text = production_log.getvalue()
    _assert_no_secret(text, flow.secrets)
    records = _records(text)
    lines = [record for record in records if record["logger"] == "abc.requests"]
    # Django's warning about the 400, with the route for the path and the request's id.
    [bad_request] = [record for record in records if record["logger"] == "django.request"]
    assert bad_request["message"] == "Bad Request: /password/set/<str:purpose>/<str:uidb64>/<str:token>/"
    assert bad_request["request_id"] == flow.responses[-1]["X-Request-ID"]
    _assert_one_line_per_request(lines, flow.responses)
    _assert_lines_name_routes_clients_and_people(lines, user, public_client, machine)


def _assert_no_secret(text: str, secrets: dict[str, str]) -> None:
    assert len(secrets) >= 20  # the flow handled what it claims to check
    for name, secret in secrets.items():
        parts = [secret, *(part for part in secret.split(".") if len(part) >= 16)]
        leaked = [part for part in parts if part in text]
        assert not leaked, f"the {name} is in the log"


def _records(text: str) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    for record in records:
        assert {"time", "level", "logger", "request_id", "message"} <= set(record)
    return records


def _assert_one_line_per_request(lines: list[dict[str, Any]], responses: list[TestResponse]) -> None:
    assert len(lines) == len(responses)
    by_id = {line["request_id"]: line for line in lines}
    for response in responses:
        line = by_id[response["X-Request-ID"]]
        assert line["status"] == response.status_code
        assert line["level"] == "INFO"
        assert line["remote_addr"] == "127.0.0.1"
        assert isinstance(line["duration_ms"], float)
        assert "?" not in line["path"]


def _assert_lines_name_routes_clients_and_people(
    lines: list[dict[str, Any]], user: User, app: Client, machine: Client
) -> None:
    """Each line names the route, and the client and the person once the request knew them."""
    sub, mobile, batch = str(user.sub), app.client_id, machine.client_id
    seen = [
        (line["method"], line["path"], line["status"], line["client_id"], line["user_id"]) for line in lines
    ]
    assert seen == [
        ("GET", "/authorize", 302, None, None),  # to the sign-in page: nothing checked yet
        ("POST", "/login/", 200, None, None),  # the wrong password
        ("POST", "/login/", 302, None, sub),
        ("GET", "/authorize", 200, mobile, sub),  # the consent page
        ("POST", "/authorize", 302, mobile, sub),
        ("POST", "/oauth/token", 200, mobile, sub),  # form body
        ("GET", "/authorize", 302, mobile, sub),  # the consent remembered
        ("POST", "/oauth/token", 200, mobile, sub),  # JSON body
        ("POST", "/oauth/token", 200, mobile, sub),  # refresh
        ("GET", "/userinfo", 200, mobile, sub),
        ("GET", "/api/timesheets", 200, mobile, sub),
        ("POST", "/oauth/token", 200, batch, None),  # client_credentials
        ("POST", "/oauth/introspect", 200, batch, None),
        ("GET", "/api/timesheets", 200, batch, None),
        ("POST", "/oauth/revoke", 200, mobile, None),
        ("POST", "/password/forgot/", 302, None, None),
        ("GET", "/password/set/<str:purpose>/<str:uidb64>/<str:token>/", 200, None, None),
        ("GET", "/password/set/<str:purpose>/<str:uidb64>/<str:token>/", 400, None, None),
    ]
