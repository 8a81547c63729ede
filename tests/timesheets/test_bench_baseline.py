"""The benchmark's unauthenticated list: absent unless BENCH_BASELINE_VIEWS is on, and then
the same answer as the API's for that person."""

from __future__ import annotations

import importlib
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import clear_url_caches

import config.urls
from tests.config.test_settings import PRODUCTION_ENV, _manage
from timesheets.models import Entry

from .conftest import make_entry

pytestmark = pytest.mark.django_db
BASELINE = "/bench/timesheets"


def _remount() -> None:
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture
def baseline_on(settings):
    settings.BENCH_BASELINE_VIEWS = True
    _remount()
    yield
    settings.BENCH_BASELINE_VIEWS = False
    _remount()


def test_there_is_no_baseline_view_by_default(worker):
    make_entry(worker)
    assert settings.BENCH_BASELINE_VIEWS is False
    assert HttpClient().get(BASELINE, {"person": worker.email}).status_code == HTTPStatus.NOT_FOUND


def test_production_settings_leave_it_off():
    probe = (
        "from django.conf import settings; from django.urls import Resolver404, resolve\n"
        "try: resolve('/bench/timesheets'); print('mounted')\n"
        "except Resolver404: print('absent', settings.BENCH_BASELINE_VIEWS)"
    )
    result = _manage("shell", "--no-imports", "-c", probe, **PRODUCTION_ENV, BENCH_BASELINE_VIEWS="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["absent", "False"]


def _cursor(link: str) -> list[str]:
    return parse_qs(urlsplit(link).query)["cursor"]


@pytest.mark.parametrize("params", [{"page_size": 2}, {"status": "submitted"}, {"project": "Gemini"}])
def test_it_answers_what_the_api_answers_for_that_person(baseline_on, api_as, worker, bob, params):
    for day in range(5):
        make_entry(worker, day=day, project="Gemini" if day % 2 else "Apollo")
    make_entry(worker, day=5, status=Entry.Status.SUBMITTED)
    make_entry(bob, day=1)
    api = api_as(worker, "read:timesheets").get("/api/timesheets", **params)
    baseline = HttpClient().get(BASELINE, {"person": worker.email, **params})
    assert baseline.status_code == api.status_code == HTTPStatus.OK
    assert baseline["Content-Type"] == api["Content-Type"]
    assert baseline.json()["results"] == api.json()["results"]
    if api.json()["next"]:
        assert _cursor(baseline.json()["next"]) == _cursor(api.json()["next"])
        assert urlsplit(baseline.json()["next"]).path == BASELINE


def test_it_refuses_what_a_read_only_token_is_refused(baseline_on, worker, bob):
    http = HttpClient()
    assert http.get(BASELINE, {"person": worker.email, "team": "true"}).status_code == HTTPStatus.FORBIDDEN
    assert (
        http.get(BASELINE, {"person": worker.email, "worker": bob.email}).status_code == HTTPStatus.FORBIDDEN
    )
    assert http.get(BASELINE, {"person": "nobody@abcinc.example"}).status_code == HTTPStatus.NOT_FOUND
    assert http.get(BASELINE).status_code == HTTPStatus.NOT_FOUND
