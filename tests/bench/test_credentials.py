"""Credentials made before the runs (bench/credentials.py): how many codes, which headers."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from bench.client import basic
from bench.credentials import Credentials, codes_needed, exchange_body
from bench.scenarios import SkipScenario


def test_codes_needed_has_headroom():
    assert codes_needed(100, 20, 16) == 3000 + 32
    assert codes_needed(0, 20, 16) == 64  # never fewer than a few per connection
    assert codes_needed(10.2, 10, 16, margin=1.0) == 102 + 32


def test_batch_client_signs_in_with_basic():
    credentials = Credentials(client_secret="s3cret")
    assert credentials.headers("batch_basic") == {"Authorization": basic("timesheets-batch", "s3cret")}
    assert credentials.headers("") == {}


def test_bearer_and_admin_session_when_made():
    credentials = Credentials(
        client_secret="s", sessions={"admin@abcinc.example": "sessionid=a; csrftoken=b"}, api_token="e.y.j"
    )
    assert credentials.headers("bearer") == {"Authorization": "Bearer e.y.j"}
    assert credentials.headers("admin_session") == {"Cookie": "sessionid=a; csrftoken=b"}


def test_a_missing_credential_skips_the_scenario():
    credentials = Credentials(client_secret="s")
    with pytest.raises(SkipScenario, match=r"^no access token \(see checks in the result file\)$"):
        credentials.headers("bearer")
    with pytest.raises(SkipScenario, match=r"^admin login failed$"):
        credentials.headers("admin_session")


def test_exchange_body_is_a_plain_pkce_code_exchange():
    body = parse_qs(exchange_body("the-code", "v" * 43))
    assert body == {
        "grant_type": ["authorization_code"],
        "code": ["the-code"],
        "redirect_uri": ["com.abcinc.timesheets://callback"],
        "client_id": ["timesheets-mobile"],
        "code_verifier": ["v" * 43],
    }
