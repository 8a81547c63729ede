"""The timesheet pages: my week, approvals and bulk jobs, with and without htmx."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from accounts.models import User
from apis.services import api_update
from authz.services import role_assign, role_create, role_set_permissions
from timesheets.models import BulkJob, Entry

from .conftest import MONDAY, make_entry

pytestmark = pytest.mark.django_db
# Extra WSGI environ for the test client; typed Any like its **extra, so that mypy does not
# match the values against the client's named parameters.
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
WEEK = reverse("timesheets:week", args=[MONDAY])
ADD = reverse("timesheets:entry_create", args=[MONDAY])
SUBMIT = reverse("timesheets:week_submit", args=[MONDAY])
# The yes to a one-way action: htmx sends it (hx-vals) once its dialog was accepted.
YES = {"confirmed": "true"}


def _as(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _add(http: HttpClient, *, day: int = 0, hours: str = "7.5", htmx: bool = True, **fields):
    data = {"date": (MONDAY + datetime.timedelta(days=day)).isoformat(), "project": "Apollo", "hours": hours}
    return http.post(ADD, {**data, **fields}, **(HTMX if htmx else {}))


def _is_week_fragment(response) -> bool:
    html = response.content.decode()
    return 'id="week-title"' in html and "<html" not in html and "<h1>My week</h1>" not in html


@pytest.fixture
def approver(manager, timesheets_api) -> User:
    """The manager, holding approve:timesheets through a role on the RBAC-enabled API."""
    api_update(api=timesheets_api, rbac_enabled=True)
    role = role_create(actor=None, name="Timesheet approvers")
    role_set_permissions(
        actor=None, role=role, permissions=timesheets_api.scopes.filter(value="approve:timesheets")
    )
    role_assign(actor=None, role=role, user=manager)
    return manager


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", reverse("timesheets:week")),
        ("get", WEEK),
        ("post", ADD),
        ("post", reverse("timesheets:week_submit", args=[MONDAY])),
        ("get", reverse("timesheets:approvals")),
        ("post", reverse("timesheets:entry_approve", args=[1])),
        ("get", reverse("timesheets:bulk_list")),
    ],
)
def test_anonymous_people_are_sent_to_login(db, method, path):
    response = getattr(HttpClient(), method)(path)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_week_url_needs_a_real_date_and_moves_to_its_monday(worker):
    http = _as(worker)
    wednesday = reverse("timesheets:week", args=[MONDAY + datetime.timedelta(days=2)])
    assert http.get(wednesday)["Location"] == WEEK
    assert http.get("/time/week/2026-02-30/").status_code == HTTPStatus.NOT_FOUND


# --- My week ----------------------------------------------------------------------------------


def test_my_week_shows_only_my_entries_with_day_and_week_totals(worker, bob):
    make_entry(worker, day=0, minutes=450, project="Apollo")
    make_entry(worker, day=0, minutes=60, project="Gemini")
    make_entry(worker, day=2, minutes=120, status=Entry.Status.REJECTED, project="Mercury")
    make_entry(bob, day=1, project="Bob's secret project")
    make_entry(worker, day=7, project="Later")

    response = _as(worker).get(WEEK)

    assert response.status_code == HTTPStatus.OK
    assert response.templates[0].name == "timesheets/week.html"
    days = response.context["days"]
    assert [day.date.weekday() for day in days] == list(range(7))
    assert [day.hours for day in days][:3] == [8.5, 0, 2]
    assert response.context["week_hours"] == 10.5
    html = response.content.decode()
    assert "Gemini" in html and "Mercury" in html
    assert "Bob&#x27;s secret project" not in html and "Later" not in html
    assert "Rejected: no" in html  # the rejection reason, next to the rejected entry
    assert 'href="/time/week/2026-11-09/"' in html and 'href="/time/week/2026-11-23/"' in html


def test_adding_an_entry_with_htmx_returns_the_week_fragment_and_saves_it_from_the_web(worker):
    response = _add(_as(worker), day=1, hours="7.5", notes="Kick-off")

    assert response.status_code == HTTPStatus.OK
    assert _is_week_fragment(response)
    assert "Added 7.5 h on Apollo" in response.content.decode()
    assert "HX-Request" in response["Vary"]
    entry = Entry.objects.get()
    assert (entry.worker, entry.date, entry.minutes, entry.notes) == (
        worker,
        MONDAY + datetime.timedelta(days=1),
        450,
        "Kick-off",
    )
    assert (entry.source, entry.status) == (Entry.Source.WEB, Entry.Status.DRAFT)


def test_restoring_the_week_from_htmx_history_gets_the_whole_page(worker):
    # htmx asks for a page it has no snapshot of: a fragment alone would replace the whole body.
    response = _as(worker).get(WEEK, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert not _is_week_fragment(response)
    assert "<h1>My week</h1>" in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_adding_an_entry_without_javascript_redirects_to_the_week(worker):
    response = _add(_as(worker), htmx=False)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == WEEK
    assert Entry.objects.filter(worker=worker).count() == 1


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("0.1", "quarter-hour steps"),
        ("0", "more than 0 and at most 24"),
        ("25", "more than 0 and at most 24"),
        ("lots", "Enter a number."),
    ],
)
def test_bad_hours_are_shown_next_to_the_field(worker, hours, message):
    response = _add(_as(worker), hours=hours)

    assert response.status_code == HTTPStatus.OK
    assert _is_week_fragment(response)
    html = response.content.decode()
    assert 'id="id_hours_error"' in html and message in html
    assert not Entry.objects.exists()


def test_more_than_24_hours_on_a_day_is_refused_inline(worker):
    make_entry(worker, day=3, minutes=20 * 60)

    response = _add(_as(worker), day=3, hours="4.25")

    assert 'id="id_hours_error"' in response.content.decode()
    assert "more than 24 hours on Thu 19 Nov 2026" in response.content.decode()
    assert Entry.objects.count() == 1


def test_a_date_outside_the_week_is_refused(worker):
    response = _add(_as(worker), day=7)
    assert 'id="id_date_error"' in response.content.decode()
    assert not Entry.objects.exists()


def test_edit_row_then_save(worker):
    entry = make_entry(worker, day=1, minutes=600)
    http = _as(worker)
    url = reverse("timesheets:entry_update", args=[entry.pk])

    row = http.get(url, **HTMX)
    html = row.content.decode()
    assert html.lstrip().startswith(f'<tr id="entry-{entry.pk}"')
    assert "<table" not in html
    assert 'value="10"' in html  # 600 minutes, as hours

    saved = http.post(
        url, {"date": entry.date.isoformat(), "project": "Gemini", "hours": "6.25", "notes": "x"}, **HTMX
    )
    assert _is_week_fragment(saved)
    entry.refresh_from_db()
    assert (entry.project, entry.minutes, entry.notes) == ("Gemini", 375, "x")


def test_editing_without_javascript_shows_the_edit_row_in_the_page(worker):
    entry = make_entry(worker)
    response = _as(worker).get(reverse("timesheets:entry_update", args=[entry.pk]))
    assert response.templates[0].name == "timesheets/week.html"
    assert f'id="id_entry_{entry.pk}_hours"' in response.content.decode()


def test_an_invalid_edit_keeps_the_edit_row_with_the_error(worker):
    entry = make_entry(worker)
    response = _as(worker).post(
        reverse("timesheets:entry_update", args=[entry.pk]),
        {"date": entry.date.isoformat(), "project": "Apollo", "hours": "0.1"},
        **HTMX,
    )
    html = response.content.decode()
    assert _is_week_fragment(response)
    assert f'id="id_entry_{entry.pk}_hours_error"' in html
    entry.refresh_from_db()
    assert entry.minutes == 480


def test_correcting_a_rejected_entry_makes_it_a_draft_again(worker):
    entry = make_entry(worker, status=Entry.Status.REJECTED)
    _as(worker).post(
        reverse("timesheets:entry_update", args=[entry.pk]),
        {"date": entry.date.isoformat(), "project": "Apollo", "hours": "7"},
        **HTMX,
    )
    entry.refresh_from_db()
    assert (entry.status, entry.rejection_reason, entry.minutes) == (Entry.Status.DRAFT, "", 420)


def test_submitted_time_cannot_be_edited_409_with_an_inline_message(worker):
    entry = make_entry(worker, status=Entry.Status.SUBMITTED)
    response = _as(worker).get(reverse("timesheets:entry_update", args=[entry.pk]), **HTMX)
    assert response.status_code == HTTPStatus.CONFLICT
    assert response["HX-Retarget"] == "#week"
    assert "cannot be edited" in response.content.decode()


@pytest.mark.parametrize("status", [Entry.Status.DRAFT, Entry.Status.REJECTED])
def test_delete_a_draft_or_rejected_entry(worker, status):
    entry = make_entry(worker, status=status)
    response = _as(worker).post(reverse("timesheets:entry_delete", args=[entry.pk]), **HTMX)
    assert _is_week_fragment(response)
    assert "Deleted Apollo" in response.content.decode()
    assert not Entry.objects.exists()


@pytest.mark.parametrize("status", [Entry.Status.SUBMITTED, Entry.Status.APPROVED])
def test_submitted_and_approved_time_cannot_be_deleted(worker, status):
    entry = make_entry(worker, status=status)
    http = _as(worker)
    url = reverse("timesheets:entry_delete", args=[entry.pk])
    refusal = f"Only draft or rejected entries can be deleted; this one is {status}."

    response = http.post(url, **HTMX)
    assert response.status_code == HTTPStatus.CONFLICT
    assert refusal in response.content.decode()

    plain = http.post(url, follow=True)
    assert refusal in plain.content.decode()
    assert Entry.objects.get(pk=entry.pk).status == status


@pytest.mark.parametrize("status", [Entry.Status.SUBMITTED, Entry.Status.APPROVED])
def test_the_week_offers_no_delete_for_submitted_or_approved_time(worker, status):
    entry = make_entry(worker, status=status)
    html = _as(worker).get(WEEK).content.decode()
    assert f'id="entry-{entry.pk}"' in html
    assert reverse("timesheets:entry_delete", args=[entry.pk]) not in html


def test_someone_elses_entry_is_not_found(worker, bob):
    entry = make_entry(bob)
    http = _as(worker)
    assert http.get(reverse("timesheets:entry_update", args=[entry.pk])).status_code == HTTPStatus.NOT_FOUND
    assert http.post(reverse("timesheets:entry_delete", args=[entry.pk])).status_code == HTTPStatus.NOT_FOUND
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_submit_week_submits_this_weeks_drafts_only(worker):
    drafts = [make_entry(worker, day=0), make_entry(worker, day=4)]
    rejected = make_entry(worker, day=2, status=Entry.Status.REJECTED)
    next_week = make_entry(worker, day=7)

    response = _as(worker).post(SUBMIT, YES, **HTMX)

    assert _is_week_fragment(response)
    assert "Submitted 2 entries for approval." in response.content.decode()
    statuses = dict(Entry.objects.values_list("pk", "status"))
    assert {statuses[entry.pk] for entry in drafts} == {Entry.Status.SUBMITTED}
    assert statuses[rejected.pk] == Entry.Status.REJECTED
    assert statuses[next_week.pk] == Entry.Status.DRAFT


def test_submit_week_without_javascript_redirects(worker):
    make_entry(worker)
    response = _as(worker).post(SUBMIT, YES)
    assert response["Location"] == WEEK
    assert Entry.objects.get().status == Entry.Status.SUBMITTED


# --- Approvals --------------------------------------------------------------------------------


def test_approvals_are_refused_to_people_who_do_not_approve(worker, manager, timesheets_api):
    api_update(api=timesheets_api, rbac_enabled=True)  # and nobody holds approve:timesheets
    entry = make_entry(worker, status=Entry.Status.SUBMITTED)
    http = _as(manager)
    assert http.get(reverse("timesheets:approvals")).status_code == HTTPStatus.FORBIDDEN
    response = http.post(reverse("timesheets:entry_approve", args=[entry.pk]))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Entry.objects.get().status == Entry.Status.SUBMITTED


def test_my_week_links_to_approvals_for_approvers_only(worker, approver):
    assert reverse("timesheets:approvals") in _as(approver).get(WEEK).content.decode()
    assert reverse("timesheets:approvals") not in _as(worker).get(WEEK).content.decode()


def test_the_queue_holds_only_the_reports_submitted_entries(worker, bob, approver, password):
    stranger = User.objects.create_user(email="sam@abcinc.example", password=password, name="Sam")
    mine = make_entry(worker, status=Entry.Status.SUBMITTED, minutes=450)
    make_entry(worker, day=1, status=Entry.Status.SUBMITTED, minutes=480)
    make_entry(worker, day=7, status=Entry.Status.SUBMITTED, minutes=60)
    make_entry(bob, status=Entry.Status.DRAFT, project="Bob's draft")
    make_entry(stranger, status=Entry.Status.SUBMITTED, project="Stranger")
    make_entry(approver, status=Entry.Status.SUBMITTED, project="Own time")

    response = _as(approver).get(reverse("timesheets:approvals"))

    assert response.status_code == HTTPStatus.OK
    (person,) = response.context["people"]
    assert person.worker == worker
    assert [(week.monday, week.hours) for week in person.weeks] == [
        (MONDAY, 15.5),
        (MONDAY + datetime.timedelta(days=7), 1),
    ]
    assert person.hours == 16.5
    html = response.content.decode()
    assert f'id="decide-{mine.pk}"' in html
    assert "Stranger" not in html and "Own time" not in html and "Bob&#x27;s draft" not in html


def test_approve_inline_returns_the_updated_person_block(worker, approver):
    entry = make_entry(worker, status=Entry.Status.SUBMITTED)
    other = make_entry(worker, day=1, status=Entry.Status.SUBMITTED)

    response = _as(approver).post(reverse("timesheets:entry_approve", args=[entry.pk]), YES, **HTMX)

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert html.lstrip().startswith(f'<section class="card person" id="person-{worker.pk}"')
    assert "<html" not in html and "<h1>" not in html
    assert "Approved Apollo on Mon 16 Nov." in html
    assert f'id="decide-{entry.pk}"' not in html and f'id="decide-{other.pk}"' in html
    entry.refresh_from_db()
    assert (entry.status, entry.decided_by) == (Entry.Status.APPROVED, approver)


def test_approving_without_javascript_redirects_back(worker, approver):
    entry = make_entry(worker, status=Entry.Status.SUBMITTED)
    response = _as(approver).post(reverse("timesheets:entry_approve", args=[entry.pk]), YES)
    assert response["Location"] == reverse("timesheets:approvals")
    entry.refresh_from_db()
    assert entry.status == Entry.Status.APPROVED


def test_a_rejection_needs_a_reason_shown_inline(worker, approver):
    entry = make_entry(worker, status=Entry.Status.SUBMITTED)
    http = _as(approver)
    url = reverse("timesheets:entry_reject", args=[entry.pk])

    response = http.post(url, {"reason": "  "}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert f'id="reason-{entry.pk}-error"' in html and "Say why the entry is rejected." in html
    entry.refresh_from_db()
    assert entry.status == Entry.Status.SUBMITTED

    response = http.post(url, {"reason": "Wrong project"}, **HTMX)
    assert "Rejected Apollo" in response.content.decode()
    assert "Nothing left to decide" in response.content.decode()
    entry.refresh_from_db()
    assert (entry.status, entry.rejection_reason) == (Entry.Status.REJECTED, "Wrong project")


def test_nobody_decides_on_their_own_time(worker, approver, staff_user):
    own = make_entry(approver, status=Entry.Status.SUBMITTED)
    response = _as(approver).post(reverse("timesheets:entry_approve", args=[own.pk]), YES, **HTMX)
    assert response.status_code == HTTPStatus.FORBIDDEN

    # Not even an admin, who otherwise decides for anyone.
    admins_own = make_entry(staff_user, status=Entry.Status.SUBMITTED)
    http = _as(staff_user)
    url = reverse("timesheets:entry_approve", args=[admins_own.pk])
    assert http.post(url, YES, **HTMX).status_code == HTTPStatus.FORBIDDEN
    assert set(Entry.objects.values_list("status", flat=True)) == {Entry.Status.SUBMITTED}


def test_strangers_entries_are_not_found(approver, password):
    stranger = User.objects.create_user(email="sam@abcinc.example", password=password)
    entry = make_entry(stranger, status=Entry.Status.SUBMITTED)
    response = _as(approver).post(reverse("timesheets:entry_approve", args=[entry.pk]), YES, **HTMX)
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_deciding_twice_is_a_409_shown_in_the_block(worker, approver):
    entry = make_entry(worker, status=Entry.Status.APPROVED)
    response = _as(approver).post(reverse("timesheets:entry_approve", args=[entry.pk]), YES, **HTMX)
    assert response.status_code == HTTPStatus.CONFLICT
    assert "Only submitted entries can be approved or rejected" in response.content.decode()


def test_approve_whole_week_approves_that_persons_week_only(worker, bob, approver):
    week = [make_entry(worker, day=day, status=Entry.Status.SUBMITTED) for day in (0, 1, 4)]
    later = make_entry(worker, day=7, status=Entry.Status.SUBMITTED)
    bobs = make_entry(bob, status=Entry.Status.SUBMITTED)

    url = reverse("timesheets:week_approve", args=[worker.pk, MONDAY])
    response = _as(approver).post(url, YES, **HTMX)

    assert response.status_code == HTTPStatus.OK
    assert "Approved 3 entries for the week of 16 Nov." in response.content.decode()
    statuses = dict(Entry.objects.values_list("pk", "status"))
    assert {statuses[entry.pk] for entry in week} == {Entry.Status.APPROVED}
    assert statuses[later.pk] == statuses[bobs.pk] == Entry.Status.SUBMITTED
    assert _as(approver).post(url, YES, **HTMX).status_code == HTTPStatus.NOT_FOUND


def test_approving_the_week_of_nobody_is_not_found(worker, approver):
    make_entry(worker, status=Entry.Status.SUBMITTED)
    url = reverse("timesheets:week_approve", args=[worker.pk + 1000, MONDAY])
    assert _as(approver).post(url, YES, **HTMX).status_code == HTTPStatus.NOT_FOUND
    assert _as(approver).post(url).status_code == HTTPStatus.NOT_FOUND
    assert Entry.objects.get().status == Entry.Status.SUBMITTED


# --- Bulk jobs --------------------------------------------------------------------------------


@pytest.fixture
def running_job(confidential_client) -> BulkJob:
    client, _ = confidential_client
    return BulkJob.objects.create(
        client=client,
        rows=[{}] * 10,
        total=10,
        processed=4,
        created=3,
        status=BulkJob.Status.RUNNING,
        errors=[{"row": 2, "errors": ["Hours must be more than 0 and at most 24."]}],
    )


def test_bulk_pages_are_for_staff(worker, running_job):
    http = _as(worker)
    assert http.get(reverse("timesheets:bulk_list")).status_code == HTTPStatus.FORBIDDEN
    assert http.get(reverse("timesheets:bulk_job", args=[running_job.pk])).status_code == HTTPStatus.FORBIDDEN


def test_bulk_list_shows_recent_jobs(staff_user, running_job):
    html = _as(staff_user).get(reverse("timesheets:bulk_list")).content.decode()
    assert reverse("timesheets:bulk_job", args=[running_job.pk]) in html
    assert "Timesheets Batch (test)" in html


def test_a_running_job_polls_its_progress_fragment_until_done(staff_user, running_job):
    http = _as(staff_user)
    url = reverse("timesheets:bulk_job", args=[running_job.pk])

    page = http.get(url)
    assert page.templates[0].name == "timesheets/bulk_job.html"
    assert "<h1>Bulk upload" in page.content.decode()

    fragment = http.get(url, **HTMX)
    html = fragment.content.decode()
    assert html.lstrip().startswith('<section class="card job-progress" id="job-progress"')
    assert "<h1>" not in html
    assert '<progress max="100" value="40"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "Hours must be more than 0 and at most 24." in html
    assert "no-cache" in fragment["Cache-Control"]

    BulkJob.objects.filter(pk=running_job.pk).update(status=BulkJob.Status.DONE, processed=10)
    done = http.get(url, **HTMX).content.decode()
    assert '<progress max="100" value="100"' in done
    assert "hx-trigger" not in done
