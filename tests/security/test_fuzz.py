"""Fuzzing the token endpoint and the Timesheets API: whatever arrives, never a 500.

Hypothesis generates hostile parameter sets and JSON bodies; every answer must be a
deliberate 2xx/4xx in JSON, never a server error.
"""

from __future__ import annotations

import json
import os
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, basic_auth, client_credentials

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
