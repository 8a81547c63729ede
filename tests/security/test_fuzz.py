"""Fuzzing the token endpoint and the Timesheets API: whatever arrives, never a 500.

Hypothesis generates hostile parameter sets and JSON bodies, nested far deeper than the
interpreter's stack and larger than the size limits, at every endpoint that reads JSON;
every answer must be a deliberate 2xx/4xx in JSON (413 for a body over the limit), never a
server error or Django's HTML 400.
"""

from __future__ import annotations

import datetime
import json
import os
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from django.test import Client as HttpClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, basic_auth, client_credentials
from timesheets.models import Entry

from .helpers import sign_in

pytestmark = pytest.mark.django_db

# FUZZ_EXAMPLES=1000 for a longer hunt; CI runs the default.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
TOKEN_PARAMETERS = [
    "grant_type",
    "code",
    "redirect_uri",
    "client_id",
    "client_secret",
    "code_verifier",
    "refresh_token",
    "scope",
    "audience",
    "resource",
]
GRANTS = st.sampled_from(
    ["authorization_code", "refresh_token", "client_credentials", "password", "", "x" * 300]
)
TEXT = st.text(max_size=200)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)


def _no_server_error(response) -> None:
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json")


@FUZZ
@given(params=st.dictionaries(st.sampled_from(TOKEN_PARAMETERS), TEXT, max_size=8), grant=GRANTS)
def test_token_endpoint_form_bodies(confidential_client, timesheets_api, params, grant):
    client, secret = confidential_client
    response = HttpClient(raise_request_exception=False).post(
        "/oauth/token",
        {**params, "grant_type": grant},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    _no_server_error(response)


@FUZZ
@given(body=JSONISH)
def test_token_endpoint_json_bodies(public_client, body):
    response = HttpClient(raise_request_exception=False).post(
        "/oauth/token", json.dumps(body), content_type="application/json"
    )
    _no_server_error(response)


@pytest.fixture
def api_token(confidential_client, timesheets_api) -> str:
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["create:timesheets", "read:timesheets"])
    return client_credentials(client.client_id, secret, audience=TIMESHEETS_API).json()["access_token"]


@FUZZ
@given(body=JSONISH)
def test_bulk_upload_bodies(api_token, body):
    response = HttpClient(raise_request_exception=False).post(
        "/api/timesheets/bulk",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_token}",
    )
    _no_server_error(response)
    assert response.status_code in {HTTPStatus.ACCEPTED, HTTPStatus.BAD_REQUEST}


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(
            ["date_from", "date_to", "status", "project", "worker", "team", "cursor", "page_size"]
        ),
        TEXT,
        max_size=5,
    )
)
def test_list_filters(api_token, query):
    response = HttpClient(raise_request_exception=False).get(
        "/api/timesheets", query, HTTP_AUTHORIZATION=f"Bearer {api_token}"
    )
    _no_server_error(response)


@FUZZ
@given(header=st.text(max_size=300))
def test_authorization_headers(timesheets_api, header):
    try:
        response = HttpClient(raise_request_exception=False).get("/api/timesheets", HTTP_AUTHORIZATION=header)
    except (ValueError, UnicodeError):
        return  # not a header an HTTP client could even send
    _no_server_error(response)


# --- Nested and oversized JSON at every endpoint that reads JSON ----------------------------------

PROTOCOL_ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect"]
# Oversized bodies are megabytes each: fewer examples, the same properties.
FUZZ_LARGE = settings(FUZZ, max_examples=max(1, FUZZ.max_examples // 6))


@st.composite
def nested_json(draw) -> str:
    """Lists and objects nested up to far past the interpreter's stack, closed or not, around
    a field the endpoints read."""
    depth = draw(st.integers(min_value=1, max_value=200_000))
    opener = draw(st.sampled_from(["[", '{"a": ', '{"rows": [', '{"notes": ']))
    closer = {"[": "]", '{"a": ': "}", '{"rows": [': "]}", '{"notes": ': "}"}[opener]
    leaf = draw(st.sampled_from(["1", '"x"', "null", "1" * 5_000, "NaN", ""]))
    closed = draw(st.booleans())
    field = draw(st.sampled_from(["grant_type", "token", "project", "hours", "reason", "rows"]))
    body = opener * depth + leaf + (closer * depth if closed else "")
    return f'{{"{field}": {body}}}' if draw(st.booleans()) else body


@st.composite
def oversized_body(draw) -> tuple[str, str]:
    """A JSON or form body around the size limit: at it, just over, or well over."""
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = draw(st.sampled_from([limit - 100, limit + 1, 2 * limit]))
    if draw(st.booleans()):
        return json.dumps({"notes": "x" * size}), "application/json"
    return "notes=" + "x" * size, "application/x-www-form-urlencoded"


@pytest.fixture
def person_token(user, public_client, timesheets_api) -> str:
    http = HttpClient()
    http.force_login(user)
    scopes = "openid read:timesheets create:timesheets approve:timesheets"
    return sign_in(http, public_client.client_id, scope=scopes)["access_token"]


@pytest.fixture
def json_endpoints(user, person_token, api_token, confidential_client) -> list[tuple[str, str, dict]]:
    """(method, path, headers) of every endpoint that reads a JSON body."""
    client, secret = confidential_client
    entry = Entry.objects.create(worker=user, date=datetime.date(2026, 11, 16), project="Apollo", minutes=60)
    person = {"HTTP_AUTHORIZATION": f"Bearer {person_token}"}
    return [
        *[
            ("post", path, {"HTTP_AUTHORIZATION": basic_auth(client.client_id, secret)})
            for path in PROTOCOL_ENDPOINTS
        ],
        ("post", "/api/timesheets", person),
        ("patch", f"/api/timesheets/{entry.pk}", person),
        ("post", f"/api/timesheets/{entry.pk}/reject", person),
        ("post", "/api/timesheets/bulk", {"HTTP_AUTHORIZATION": f"Bearer {api_token}"}),
    ]


@FUZZ
@given(body=nested_json())
def test_nested_json_bodies_everywhere(json_endpoints, body):
    http = HttpClient(raise_request_exception=False)
    for method, path, headers in json_endpoints:
        response = getattr(http, method)(path, body, content_type="application/json", **headers)
        _no_server_error(response)


@FUZZ_LARGE
@given(sent=oversized_body())
def test_oversized_bodies_everywhere(json_endpoints, sent):
    body, content_type = sent
    http = HttpClient(raise_request_exception=False)
    for method, path, headers in json_endpoints:
        response = getattr(http, method)(path, body, content_type=content_type, **headers)
        _no_server_error(response)
        bulk = path.endswith("/bulk")  # its own, larger limit
        limit = django_settings.BULK_UPLOAD_MAX_BYTES if bulk else django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if len(body) <= limit:
            assert response.status_code != HTTPStatus.REQUEST_ENTITY_TOO_LARGE, path
        else:  # 415: the bulk upload refuses a form body, unread, for its type
            assert response.status_code in {
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            }, path
