"""The Timesheets API: scopes, ownership, approvals and validation, with real tokens."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse

from accounts.models import User
from timesheets.models import Entry

from .conftest import MONDAY, Api, make_entry

pytestmark = pytest.mark.django_db
LIST = "/api/timesheets"


def _detail(entry: Entry, action: str = "") -> str:
    return f"/api/timesheets/{entry.pk}" + (f"/{action}" if action else "")


# --- Scopes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "action", "needed"),
    [
        ("get", "list", "read:timesheets"),
        ("post", "list", "create:timesheets"),
        ("get", "detail", "read:timesheets"),
        ("patch", "detail", "create:timesheets"),
        ("delete", "detail", "delete:timesheets"),
        ("post", "submit", "create:timesheets"),
        ("post", "approve", "approve:timesheets"),
        ("post", "reject", "approve:timesheets"),
    ],
)
def test_each_operation_needs_its_scope(api_as, worker, bob, method, action, needed):
    entry = make_entry(bob, status=Entry.Status.SUBMITTED)
    own = make_entry(worker, day=1)
    path = {
        "list": LIST,
        "detail": _detail(own),
        "submit": _detail(own, "submit"),
        "approve": _detail(entry, "approve"),
        "reject": _detail(entry, "reject"),
    }[action]
    body = {"date": "2026-11-18", "project": "Apollo", "hours": "1", "reason": "Wrong project"}

    others = " ".join(
        s
        for s in ("read:timesheets", "create:timesheets", "delete:timesheets", "approve:timesheets")
        if s != needed
    )
    without = api_as(worker, others)
    call = getattr(without, method)
    refused = call(path, body) if method in {"post", "patch"} else call(path)
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert f'scope="{needed}"' in refused["WWW-Authenticate"]

    with_scope = api_as(worker, needed)
    call = getattr(with_scope, method)
    allowed = call(path, body) if method in {"post", "patch"} else call(path)
    assert allowed.status_code not in {HTTPStatus.FORBIDDEN, HTTPStatus.UNAUTHORIZED}, allowed.content


def test_no_token_is_401(db):
    response = HttpClient().get(LIST)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- Ownership --------------------------------------------------------------------------------


def test_the_list_holds_only_ones_own_entries(api_as, worker, bob):
    mine = make_entry(worker)
    make_entry(bob)
    response = api_as(worker, "read:timesheets").get(LIST)
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


@pytest.mark.parametrize(
    ("method", "action"),
    [("get", ""), ("patch", ""), ("delete", ""), ("post", "submit")],
)
def test_another_workers_entry_is_404(api_as, worker, bob, method, action):
    theirs = make_entry(bob)
    api = api_as(worker)
    call = getattr(api, method)
    response = (
        call(_detail(theirs, action), {"hours": "2"})
        if method in {"post", "patch"}
        else call(_detail(theirs))
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    theirs.refresh_from_db()
    assert theirs.minutes == 480 and theirs.status == Entry.Status.DRAFT


def test_identity_comes_from_the_token_never_the_body(api_as, worker, bob):
    response = api_as(worker).post(
        LIST,
        {"date": "2026-11-16", "project": "Apollo", "hours": "2", "worker": bob.email, "status": "approved"},
    )
    assert response.status_code == HTTPStatus.CREATED
    entry = Entry.objects.get(pk=response.json()["id"])
    assert entry.worker == worker
    assert entry.status == Entry.Status.DRAFT
    assert entry.source == Entry.Source.MOBILE


# --- Status changes ---------------------------------------------------------------------------


def test_submit_then_the_manager_approves(api_as, worker, manager):
    entry = make_entry(worker)
    assert api_as(worker).post(_detail(entry, "submit")).json()["status"] == "submitted"
    approved = api_as(manager).post(_detail(entry, "approve"))
    assert approved.status_code == HTTPStatus.OK
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == manager.email


def test_approving_ones_own_entry_is_refused(api_as, worker):
    entry = make_entry(worker, status=Entry.Status.SUBMITTED)
    response = api_as(worker).post(_detail(entry, "approve"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "own" in response.json()["detail"]
    entry.refresh_from_db()
    assert entry.status == Entry.Status.SUBMITTED


def test_an_approver_cannot_decide_for_someone_else_s_reports(api_as, worker, bob, password):
    stranger = User.objects.create_user(email="stranger@abcinc.example", password=password)
    entry = make_entry(worker, status=Entry.Status.SUBMITTED)
    assert api_as(stranger).post(_detail(entry, "approve")).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("status", [Entry.Status.DRAFT, Entry.Status.APPROVED, Entry.Status.REJECTED])
def test_only_submitted_entries_are_decided(api_as, worker, manager, status):
    entry = make_entry(worker, status=status)
    response = api_as(manager).post(_detail(entry, "approve"))
    assert response.status_code == HTTPStatus.CONFLICT


def test_rejecting_needs_a_reason_and_emails_the_worker(
    api_as, worker, manager, django_capture_on_commit_callbacks
):
    entry = make_entry(worker, status=Entry.Status.SUBMITTED)
    api = api_as(manager)
    assert api.post(_detail(entry, "reject"), {"reason": ""}).status_code == HTTPStatus.BAD_REQUEST
    # The email goes out after the decision is committed, never before.
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(_detail(entry, "reject"), {"reason": "Wrong project code"})
    assert response.json()["status"] == "rejected"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [worker.email]
    assert "Wrong project code" in mail.outbox[0].body


def test_approved_entries_cannot_be_changed_or_deleted(api_as, worker):
    entry = make_entry(worker, status=Entry.Status.APPROVED)
    api = api_as(worker)
    assert api.patch(_detail(entry), {"hours": "1"}).status_code == HTTPStatus.CONFLICT
    assert api.delete(_detail(entry)).status_code == HTTPStatus.CONFLICT
    assert Entry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("status", [Entry.Status.SUBMITTED, Entry.Status.APPROVED])
def test_submitted_and_approved_entries_are_not_deletable_by_their_author(api_as, worker, status):
    entry = make_entry(worker, status=status)
    response = api_as(worker).delete(_detail(entry))
    assert response.status_code == HTTPStatus.CONFLICT
    assert "Only draft or rejected entries can be deleted" in response.json()["detail"]
    assert Entry.objects.get(pk=entry.pk).status == status


def test_a_rejected_entry_can_be_deleted(api_as, worker):
    entry = make_entry(worker, status=Entry.Status.REJECTED)
    assert api_as(worker).delete(_detail(entry)).status_code == HTTPStatus.NO_CONTENT
    assert not Entry.objects.filter(pk=entry.pk).exists()


def test_the_schema_says_which_entries_can_be_deleted(timesheets_api):
    schema = HttpClient().get(reverse("timesheets-api:schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/timesheets/{id}"]["delete"]
    assert "409" in operation["responses"]
    assert "submitted or approved one is 409" in operation["description"]


def test_drafts_can_be_edited_and_deleted(api_as, worker):
    entry = make_entry(worker)
    api = api_as(worker)
    assert api.patch(_detail(entry), {"hours": "7.75", "notes": "Design review"}).json()["hours"] == "7.75"
    assert api.delete(_detail(entry)).status_code == HTTPStatus.NO_CONTENT
    assert not Entry.objects.filter(pk=entry.pk).exists()


# --- Validation -------------------------------------------------------------------------------


@pytest.mark.parametrize("hours", ["0", "0.1", "24.25", "-1", "abc", "7.3"])
def test_hours_are_validated(api_as, worker, hours):
    response = api_as(worker).post(LIST, {"date": "2026-11-16", "project": "Apollo", "hours": hours})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "hours" in response.json()
    assert not Entry.objects.exists()


def test_a_day_holds_at_most_24_hours(api_as, worker):
    api = api_as(worker)
    assert (
        api.post(LIST, {"date": "2026-11-16", "project": "A", "hours": "20"}).status_code
        == HTTPStatus.CREATED
    )
    response = api.post(LIST, {"date": "2026-11-16", "project": "B", "hours": "4.25"})
    # The request is well formed; what is stored refuses it.
    assert response.status_code == HTTPStatus.CONFLICT
    assert "24 hours" in response.json()["detail"]
    assert (
        api.post(LIST, {"date": "2026-11-16", "project": "B", "hours": "4"}).status_code == HTTPStatus.CREATED
    )


def test_missing_fields_are_field_errors(api_as, worker):
    response = api_as(worker).post(LIST, {"project": "Apollo"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"date", "hours"}


# --- Listing ----------------------------------------------------------------------------------


def test_filters_and_keyset_pagination(api_as, worker):
    for day in range(7):
        make_entry(worker, day=day, minutes=60, project="Apollo" if day % 2 else "Gemini")
    make_entry(worker, day=7, minutes=60, status=Entry.Status.SUBMITTED, project="Apollo")
    api = api_as(worker, "read:timesheets")

    apollo = api.get(LIST, project="Apollo", date_from="2026-11-16", date_to="2026-11-22").json()["results"]
    assert {row["date"] for row in apollo} == {"2026-11-17", "2026-11-19", "2026-11-21"}
    assert [row["status"] for row in api.get(LIST, status="submitted").json()["results"]] == ["submitted"]

    first = api.get(LIST, page_size=3).json()
    second = api.get(first["next"]).json()
    seen = [row["id"] for row in first["results"] + second["results"]]
    assert len(seen) == len(set(seen)) == 6

    # A range that ends before it starts holds nothing (the schema cannot relate two
    # parameters, so the API does not refuse what the schema allows).
    empty = api.get(LIST, date_from="2026-11-20", date_to="2026-11-10")
    assert empty.status_code == HTTPStatus.OK
    assert empty.json() == {"next": None, "previous": None, "results": []}
    bad = api.get(LIST, date_from="yesterday")
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert list(bad.json()) == ["date_from"]


def test_approvers_see_their_reports(api_as, worker, bob, manager):
    make_entry(worker)
    make_entry(bob)
    make_entry(manager)
    api = api_as(manager)
    team = api.get(LIST, team="true").json()["results"]
    assert {row["worker"] for row in team} == {worker.email, bob.email}
    one = api.get(LIST, worker=bob.email).json()["results"]
    assert {row["worker"] for row in one} == {bob.email}


def test_filtering_by_worker_needs_the_approve_scope(api_as, worker, bob):
    response = api_as(worker, "read:timesheets").get(LIST, worker=bob.email)
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_a_machine_token_cannot_act_as_a_person(batch_token, worker):
    # It reads every entry (payroll exports, issue 12) but never writes as someone.
    api = Api(batch_token)
    assert api.get(LIST).status_code == HTTPStatus.OK
    response = api.post(LIST, {"date": str(MONDAY), "project": "Apollo", "hours": "2"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Entry.objects.exists()


def test_week_of_monday_constant_is_a_monday():
    assert MONDAY.weekday() == 0
