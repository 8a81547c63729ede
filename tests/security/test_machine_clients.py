"""Machine clients (client credentials): what they are granted, and what they read.

A machine token carries the scopes granted to it, and its ``permissions`` claim says the
same; a request that ends with nothing grantable is refused like Auth0 does (403
``access_denied`` naming the missing grant), and the dashboard's token preview says so
too. A batch client with ``read:timesheets`` reads every entry, filterable by worker, for
payroll exports; it still never acts as a person. See also
tests/security/test_client_credentials.py.
"""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from accounts.models import User
from authz.preview import token_preview
from clients.models import Client
from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, client_credentials
from timesheets.models import Entry

from .helpers import assert_token_error, jwt_parts

pytestmark = [pytest.mark.django_db, pytest.mark.urls("config.urls")]

LIST = "/api/timesheets"
MONDAY = datetime.date(2026, 11, 16)


def _machine(client: tuple[Client, str], api, scopes: list[str]) -> tuple[Client, str]:
    client_grant_set(client=client[0], api=api, scopes=scopes)
    return client


@pytest.fixture
def machine(confidential_client, timesheets_api) -> tuple[Client, str]:
    return _machine(confidential_client, timesheets_api, ["read:timesheets", "create:timesheets"])


def _ask(machine: tuple[Client, str], **params: str):
    return client_credentials(machine[0].client_id, machine[1], audience=TIMESHEETS_API, **params)


def _token(machine: tuple[Client, str], **params: str) -> dict:
    response = _ask(machine, **params)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


# --- Granted scopes and the permissions claim -------------------------------------------------


def test_the_permissions_claim_equals_the_granted_scopes(machine):
    body = _token(machine, scope="read:timesheets approve:timesheets")
    claims = jwt_parts(body["access_token"])[1]
    assert body["scope"] == claims["scope"] == "read:timesheets"
    assert claims["permissions"] == ["read:timesheets"]  # not the whole grant


def test_asking_for_nothing_grants_the_whole_grant_and_says_so_twice(machine):
    body = _token(machine)
    claims = jwt_parts(body["access_token"])[1]
    assert set(body["scope"].split()) == {"read:timesheets", "create:timesheets"}
    assert claims["permissions"] == sorted(body["scope"].split())


def test_asking_only_for_scopes_outside_the_grant_is_403_access_denied(machine):
    body = assert_token_error(
        _ask(machine, scope="approve:timesheets"), "access_denied", HTTPStatus.FORBIDDEN
    )
    assert "approve:timesheets" in body["error_description"]
    assert TIMESHEETS_API in body["error_description"]


@pytest.mark.parametrize("scope", ["openid profile email", "offline_access", "delete:timesheets nosuch"])
def test_nothing_grantable_is_403_access_denied_naming_what_was_asked(machine, scope):
    body = assert_token_error(_ask(machine, scope=scope), "access_denied", HTTPStatus.FORBIDDEN)
    for asked in scope.split():
        assert asked in body["error_description"]


def test_an_empty_grant_is_403_access_denied(confidential_client, timesheets_api):
    empty = _machine(confidential_client, timesheets_api, [])
    body = assert_token_error(_ask(empty), "access_denied", HTTPStatus.FORBIDDEN)
    assert TIMESHEETS_API in body["error_description"]


def test_no_client_grant_at_all_is_403_access_denied(confidential_client, timesheets_api):
    body = assert_token_error(_ask(confidential_client), "access_denied", HTTPStatus.FORBIDDEN)
    assert "not authorized" in body["error_description"]


def test_the_error_is_rfc_6749_json_and_not_cached(machine):
    response = _ask(machine, scope="approve:timesheets")
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "no-store"


def test_the_preview_says_what_the_token_endpoint_says(machine, timesheets_api):
    refused = _ask(machine, scope="approve:timesheets").json()["error_description"]
    preview = token_preview(
        user=None, client=machine[0], api=timesheets_api, requested=["approve:timesheets"]
    )
    assert preview.access_token is None
    assert preview.denied is not None
    assert refused.removeprefix("This application ").removesuffix(".") in preview.denied
    assert "access_denied" in preview.denied


def test_the_preview_lists_the_granted_scopes_as_permissions(machine, timesheets_api):
    preview = token_preview(
        user=None, client=machine[0], api=timesheets_api, requested=["read:timesheets", "approve:timesheets"]
    )
    assert preview.access_token is not None
    assert preview.access_token["permissions"] == ["read:timesheets"]


# --- What a machine with read:timesheets reads ------------------------------------------------


@pytest.fixture
def entries(user, staff_user) -> dict[str, Entry]:
    other = User.objects.create_user(email="bob@abcinc.example", password="x" * 16, name="Bob")
    made = {}
    for day, worker in enumerate([user, other, staff_user]):
        made[worker.email] = Entry.objects.create(
            worker=worker, date=MONDAY + datetime.timedelta(days=day), project="Apollo", minutes=120
        )
    return made


def _reader(machine: tuple[Client, str], **params: str) -> HttpClient:
    token = _token(machine, **params)["access_token"]
    return HttpClient(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_machine_with_read_timesheets_lists_every_entry(machine, entries):
    response = _reader(machine).get(LIST)
    assert response.status_code == HTTPStatus.OK, response.content
    assert {row["worker"] for row in response.json()["results"]} == set(entries)


def test_a_machine_filters_by_worker_and_date(machine, entries, user):
    http = _reader(machine)
    one = http.get(LIST, {"worker": user.email.upper()}).json()["results"]
    assert [row["id"] for row in one] == [entries[user.email].pk]
    later = http.get(LIST, {"date_from": str(MONDAY + datetime.timedelta(days=1))}).json()["results"]
    assert user.email not in {row["worker"] for row in later}
    assert http.get(LIST, {"worker": "nobody@abcinc.example"}).json()["results"] == []


def test_a_machine_reads_any_entry_by_id(machine, entries, staff_user):
    entry = entries[staff_user.email]
    response = _reader(machine).get(f"{LIST}/{entry.pk}")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["worker"] == staff_user.email
    assert _reader(machine).get(f"{LIST}/999999").status_code == HTTPStatus.NOT_FOUND


def test_a_machine_without_read_timesheets_reads_nothing(machine, entries):
    response = _reader(machine, scope="create:timesheets").get(LIST)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_a_reading_machine_still_never_acts_as_a_person(confidential_client, timesheets_api, entries, user):
    everything = ["read:timesheets", "create:timesheets", "delete:timesheets", "approve:timesheets"]
    http = _reader(_machine(confidential_client, timesheets_api, everything))
    entry = entries[user.email]
    entry.status = Entry.Status.SUBMITTED
    entry.save()
    created = http.post(
        LIST, {"date": "2026-11-20", "project": "Apollo", "hours": "2"}, content_type="application/json"
    )
    assert created.status_code == HTTPStatus.FORBIDDEN
    assert http.post(f"{LIST}/{entry.pk}/approve").status_code == HTTPStatus.FORBIDDEN
    assert http.delete(f"{LIST}/{entry.pk}").status_code == HTTPStatus.FORBIDDEN
    entry.refresh_from_db()
    assert entry.status == Entry.Status.SUBMITTED
    assert Entry.objects.count() == len(entries)


def test_the_openapi_description_says_what_a_machine_reads(timesheets_api):
    schema = HttpClient().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    description = schema["paths"]["/api/timesheets"]["get"]["description"]
    assert "client_credentials" in description
    assert "worker" in description
