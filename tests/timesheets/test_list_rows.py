"""The list built from plain rows answers what EntrySerializer over model instances answered,
byte for byte, in a fixed number of queries; the person behind a token is cached briefly."""

from __future__ import annotations

import datetime
import json
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from accounts.models import User
from accounts.services import user_deactivate
from authz.services import user_access_revoke
from timesheets import api as timesheets_api_module
from timesheets.models import Entry
from timesheets.serializers import EntrySerializer, entry_row_columns, entry_rows_data

from .conftest import Api, make_entry

pytestmark = pytest.mark.django_db
LIST = "/api/timesheets"
DECIDED_AT = datetime.datetime(2026, 11, 20, 17, 45, 3, 120034, tzinfo=datetime.UTC)


def serializer_page(request, view, entries):
    """The list as it was built before: the page's model instances through EntrySerializer."""
    paginator = timesheets_api_module.EntryPagination()
    page = paginator.paginate_queryset(entries, request, view=view)
    return paginator.get_paginated_response(EntrySerializer(page, many=True).data)


def entries_of_every_kind(worker: User, manager: User) -> None:
    """Every state, decided and not, NULLs and not, odd text, several entries a day."""
    make_entry(worker, day=0, minutes=15, notes='quotes " and \\ and é, 漢字, \u2028 and \u2029')
    make_entry(worker, day=0, minutes=1440, project="Gemini", external_id="x-1")
    make_entry(worker, day=1, minutes=465, status=Entry.Status.SUBMITTED)
    make_entry(
        worker, day=1, minutes=45, status=Entry.Status.APPROVED, decided_by=manager, decided_at=DECIDED_AT
    )
    make_entry(
        worker,
        day=2,
        minutes=480,
        status=Entry.Status.REJECTED,
        decided_by=manager,
        decided_at=DECIDED_AT.replace(microsecond=0),
    )
    for day in range(3, 10):
        make_entry(worker, day=day, minutes=60 * day, status=Entry.Status.APPROVED, decided_by=manager)
    make_entry(manager, day=4, minutes=90, project="Gemini")


def assert_same_bytes(api: Api, monkeypatch, path: str, **params) -> dict:
    """The list's answer, checked against the one EntrySerializer gives for the same request."""
    rows = api.get(path, **params)
    with monkeypatch.context() as patched:
        patched.setattr(timesheets_api_module, "entry_page", serializer_page)
        expected = api.get(path, **params)
    assert rows.status_code == expected.status_code == HTTPStatus.OK
    assert rows["Content-Type"] == expected["Content-Type"]
    assert rows.content == expected.content
    return rows.json()


def test_every_page_both_ways_is_what_the_serializer_wrote(api_as, worker, manager, monkeypatch):
    entries_of_every_kind(worker, manager)
    api = api_as(worker, "read:timesheets")
    page = assert_same_bytes(api, monkeypatch, LIST, page_size=4)
    pages, seen = 1, [row["id"] for row in page["results"]]
    while page["next"]:
        page = assert_same_bytes(api, monkeypatch, page["next"])
        pages, seen = pages + 1, seen + [row["id"] for row in page["results"]]
    assert pages == 3
    assert seen == list(Entry.objects.filter(worker=worker).values_list("id", flat=True))
    while page["previous"]:  # and back: the previous links are the same too
        page = assert_same_bytes(api, monkeypatch, page["previous"])
    assert page["results"][0]["id"] == seen[0]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "approved"},
        {"status": "rejected"},
        {"project": "Gemini"},
        {"date_from": "2026-11-17", "date_to": "2026-11-20", "page_size": 2},
        {},
    ],
)
def test_filtered_lists_are_what_the_serializer_wrote(api_as, worker, manager, monkeypatch, params):
    entries_of_every_kind(worker, manager)
    assert_same_bytes(api_as(worker, "read:timesheets"), monkeypatch, LIST, **params)


@pytest.mark.parametrize(
    "params", [{"team": "true"}, {"worker": "alice@abcinc.example"}, {"worker": "nobody@abcinc.example"}]
)
def test_an_approvers_lists_are_what_the_serializer_wrote(api_as, worker, manager, monkeypatch, params):
    entries_of_every_kind(worker, manager)
    assert_same_bytes(api_as(manager), monkeypatch, LIST, **params)


def test_a_machine_clients_list_is_what_the_serializer_wrote(batch_token, worker, manager, monkeypatch):
    entries_of_every_kind(worker, manager)
    everyone = assert_same_bytes(Api(batch_token), monkeypatch, LIST)
    assert {row["worker"] for row in everyone["results"]} == {worker.email, manager.email}


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns", "Asia/Kathmandu"])
def test_rows_format_every_quarter_hour_and_time_zone_as_the_serializer(worker, manager, zone):
    Entry.objects.bulk_create(
        Entry(
            worker=worker,
            date=datetime.date(2026, 1, 1) + datetime.timedelta(days=quarters),
            project="Apollo",
            minutes=15 * quarters,
            decided_by=manager if quarters % 2 else None,
            decided_at=DECIDED_AT + datetime.timedelta(minutes=quarters) if quarters % 3 else None,
        )
        for quarters in range(1, 97)
    )
    entries = Entry.objects.select_related("worker", "decided_by").order_by("id")
    with timezone.override(zone):
        rows = entry_rows_data(entries.values(*entry_row_columns()))
        expected = EntrySerializer(entries, many=True).data
    assert JSONRenderer().render(rows) == JSONRenderer().render(expected)


def test_the_list_reads_any_page_in_a_few_queries(api_as, worker, manager, django_assert_max_num_queries):
    """Before, each decided entry cost a query of its own for ``decided_by``."""
    entries_of_every_kind(worker, manager)
    for day in range(10, 70):
        make_entry(worker, day=day, minutes=60, status=Entry.Status.APPROVED, decided_by=manager)
    api = api_as(worker, "read:timesheets")
    api.get(LIST)  # the verifier's caches filled (the API, its keys)
    # At most: the entries, the person (cached 1 s), the revocation list (cached for a while).
    with django_assert_max_num_queries(3):
        assert len(api.get(LIST, page_size=5).json()["results"]) == 5
    with django_assert_max_num_queries(3):
        assert len(api.get(LIST, page_size=200).json()["results"]) == 72


def test_the_lists_schema_is_a_page_of_entry_serializers(timesheets_api):
    out = StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    schema = json.loads(out.getvalue())
    listing = schema["paths"][LIST]["get"]
    # The cursor page the list answers (it was documented as a bare array before).
    assert listing["responses"]["200"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EntryPage"}}},
        "description": "",
    }
    page = schema["components"]["schemas"]["EntryPage"]
    assert page["properties"]["results"] == {"type": "array", "items": {"$ref": "#/components/schemas/Entry"}}
    assert page["required"] == ["next", "previous", "results"]
    assert [p["name"] for p in listing["parameters"]] == [
        "cursor", "date_from", "date_to", "page_size", "project", "status", "team", "worker"
    ]  # fmt: skip
    entry = schema["components"]["schemas"]["Entry"]
    assert list(entry["properties"]) == list(EntrySerializer().fields)
    assert entry["properties"]["hours"]["format"] == "decimal"
    assert entry["properties"]["decided_at"] == {
        "type": "string",
        "format": "date-time",
        "readOnly": True,
        "nullable": True,
    }


# --- The person behind the token ------------------------------------------------------------


def test_a_deactivated_person_is_refused_at_once_though_they_were_cached(api_as, worker, manager):
    api = api_as(worker, "read:timesheets")
    assert api.get(LIST).status_code == HTTPStatus.OK  # the person is now cached
    user_deactivate(actor=manager, user=worker, revoke_access=user_access_revoke)
    response = api.get(LIST)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_person_deactivated_any_other_way_is_refused_at_once(api_as, worker):
    api = api_as(worker, "read:timesheets")
    assert api.get(LIST).status_code == HTTPStatus.OK
    User.objects.filter(pk=worker.pk).update(is_active=False)  # no revocation, no signal
    for _ in range(2):
        response = api.get(LIST)
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json()["detail"] == "The token's subject is not an active user."
