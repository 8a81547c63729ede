"""How a static row is checked before it is measured (bench/drivers.py: drive_static)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from bench import drivers
from bench.client import Reply
from bench.credentials import Credentials
from bench.drivers import Run, run_scenario, same_page, token_alg
from bench.options import Config
from bench.processes import Processes
from bench.report import Results
from bench.scenarios import SCENARIOS
from bench.server import Server

ROWS = {row.name: row for row in SCENARIOS}


def jwt(alg: str) -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": alg, "typ": "at+jwt"}).encode()).rstrip(b"=")
    return header.decode() + ".eyJzdWIiOiJ4In0.c2ln"


def test_token_alg_reads_the_jwt_header():
    assert token_alg(jwt("ES256")) == "ES256"
    assert token_alg(jwt("RS256")) == "RS256"
    assert token_alg("") == ""
    assert token_alg("opaque-token-without-dots") == ""
    assert token_alg("!!!.x.y") == ""


@pytest.fixture
def static(monkeypatch):
    """drive_static with the server's answer chosen by the test and measure() only noting."""
    answer: list[Reply] = []
    measured: list[str] = []
    monkeypatch.setattr("bench.report.run_meta", lambda cfg, started_at: {"checks": {}})
    monkeypatch.setattr(drivers, "warm", lambda count, send: answer[-1])
    monkeypatch.setattr(drivers, "measure", lambda run, scenario, *a, **k: measured.append(scenario.name))
    server = Server(port=1, env={}, issuer="https://127.0.0.1:1", password="p", client_secret="s")
    server.features = {"es256": "ok"}
    run = Run(
        Config(),
        Processes(),
        server,
        None,
        Credentials(client_secret="s", api_token="e.y.j"),
        Results(Config()),
    )

    def drive(name: str, status: int, body: Any) -> Run:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        answer.append(Reply(status, [], raw))
        run_scenario(run, ROWS[name])
        return run

    return drive, measured


def test_a_missing_baseline_view_skips_api_get_noauth(static):
    drive, measured = static
    run = drive("api_get_noauth", 404, b"<h1>Not Found</h1>")
    assert measured == []
    assert run.results.rows[-1]["skipped"].startswith("no baseline view here")


def test_the_baseline_must_answer_the_same_page_as_the_authenticated_list(static):
    drive, measured = static
    drive("api_get", 200, {"count": 250, "next": "https://x/api/timesheets?page=2", "results": [1, 2]})
    run = drive(
        "api_get_noauth", 200, {"count": 250, "next": "https://x/bench/timesheets?p=2", "results": [1, 2]}
    )
    assert run.results.checks["api_get_noauth same page as api_get"] is True
    run = drive("api_get_noauth", 200, {"count": 250, "next": None, "results": [1]})
    assert run.results.checks["api_get_noauth same page as api_get"] is False
    assert measured == ["api_get", "api_get_noauth", "api_get_noauth"]  # still measured, and said


def test_pages_compare_without_their_links():
    assert same_page(b'{"a": 1}', b'{"a": 1}')
    assert same_page(b'{"next": "x", "a": 1}', b'{"a": 1, "next": "y"}')
    assert not same_page(b'{"a": 1}', b'{"a": 2}')
    assert not same_page(b"<html>", b'{"a": 1}')
    assert same_page(b"[1, 2]", b"[1,2]")


def test_a_token_signed_with_another_algorithm_skips_the_row(static):
    drive, measured = static
    run = drive("cc_form_es256", 200, {"access_token": jwt("RS256")})
    assert run.results.rows[-1]["skipped"] == "the access token is signed RS256, not ES256"
    run = drive("cc_form_es256", 200, {"access_token": jwt("ES256")})
    assert run.results.checks["cc_form_es256 alg"] == "ES256"
    assert measured == ["cc_form_es256"]


def test_a_failing_single_request_skips_with_its_answer(static):
    drive, measured = static
    run = drive("cc_form", 401, {"error": "invalid_client"})
    assert run.results.rows[-1]["skipped"] == 'a single request fails: HTTP 401: {"error": "invalid_client"}'
    assert measured == []
