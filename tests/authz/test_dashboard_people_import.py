"""Bulk invitations from CSV: the whole file checked first, a job with progress, idempotent."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditEntry, User
from authz.people_import import people_import_parse, people_import_progress
from authz.services import group_create

pytestmark = pytest.mark.django_db

URL = "/dashboard/people/import/"
GOOD = (
    "email,name,worker_type,manager_email,groups\n"
    "bob@abcinc.example,Bob Brown,employee,carol@abcinc.example,Engineering;Payroll\n"
    "carol@abcinc.example,Carol Chen,,admin@abcinc.example,\n"
    "dan@abcinc.example,Dan Doe,Contractor,,Engineering\n"
)


@pytest.fixture
def groups(db) -> None:
    group_create(actor=None, name="Engineering")
    group_create(actor=None, name="Payroll")


def _upload(http, text: str, django_capture_on_commit_callbacks, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        return http.post(URL, {"file": SimpleUploadedFile("people.csv", text.encode(), "text/csv")}, **extra)


def test_a_good_file_invites_everyone_with_groups_and_managers(
    staff_client, staff_user, groups, django_capture_on_commit_callbacks
):
    response = _upload(staff_client, GOOD, django_capture_on_commit_callbacks)
    assert response.status_code == HTTPStatus.FOUND
    job = response["Location"].rstrip("/").split("/")[-1]
    bob, carol, dan = (User.objects.get(email=f"{name}@abcinc.example") for name in ("bob", "carol", "dan"))
    assert bob.manager == carol and carol.manager == staff_user and dan.manager is None
    assert sorted(bob.authz_groups.values_list("name", flat=True)) == ["Engineering", "Payroll"]
    assert dan.worker_type == "contractor" and carol.worker_type == "employee"
    assert {person.status for person in (bob, carol, dan)} == {"invited"}
    assert sorted(message.to[0] for message in mail.outbox) == [bob.email, carol.email, dan.email]
    assert people_import_progress(job) == {
        "total": 3,
        "done": 3,
        "created": 3,
        "skipped": 0,
        "finished": True,
    }
    page = staff_client.get(response["Location"]).content.decode()
    assert "3 invited, 0 skipped" in page and 'value="3"' in page and "every 1s" not in page
    assert AuditEntry.objects.filter(action="user.import_start").count() == 1


def test_the_same_file_again_invites_nobody_twice(staff_client, groups, django_capture_on_commit_callbacks):
    _upload(staff_client, GOOD, django_capture_on_commit_callbacks)
    response = _upload(staff_client, GOOD, django_capture_on_commit_callbacks)
    job = response["Location"].rstrip("/").split("/")[-1]
    assert people_import_progress(job) == {
        "total": 3,
        "done": 3,
        "created": 0,
        "skipped": 3,
        "finished": True,
    }
    assert User.objects.filter(email__endswith="@abcinc.example").count() == 4  # with admin@
    assert len(mail.outbox) == 3


def test_every_bad_row_is_reported_and_nobody_is_invited(
    staff_client, groups, django_capture_on_commit_callbacks
):
    bad = (
        "email,name,worker_type,manager_email,groups\n"
        "not-an-email,Bob,employee,,\n"
        "erin@abcinc.example,Erin,pirate,,\n"
        "fay@abcinc.example,Fay,,nobody@abcinc.example,Nope\n"
        "gil@abcinc.example,Gil,,,\n"
        "GIL@abcinc.example,Gil again,,,\n"
    )
    response = _upload(staff_client, bad, django_capture_on_commit_callbacks)
    body = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "5 mistakes in the file" in body
    for message in (
        "Line 2: “not-an-email” is not an email address.",
        "Line 3: the worker type must be one of employee, contractor.",
        "Line 4: there is no group “Nope”.",
        "The manager nobody@abcinc.example is neither in the file nor a person here.",
        "Line 6: gil@abcinc.example is in the file twice.",
    ):
        assert message in body
    assert not User.objects.exclude(email="admin@abcinc.example").exists() and mail.outbox == []


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("mail,name\nx@abcinc.example,X\n", "email is missing"),
        ("email,name\n", "no people in it"),
        ("email,name\nx@abcinc.example,X,extra,columns\n", None),
    ],
)
def test_the_shape_of_the_file_is_checked(db, text, error):
    rows, errors = people_import_parse(text)
    if error is None:
        assert [row.email for row in rows] == ["x@abcinc.example"] and errors == []
    else:
        assert rows == [] and error in errors[0]


def test_a_file_and_a_paste_together_or_neither_are_refused(staff_client):
    response = staff_client.post(URL, {"text": ""})
    assert "Choose a CSV file or paste it" in response.content.decode()
    both = {"text": GOOD, "file": SimpleUploadedFile("people.csv", GOOD.encode(), "text/csv")}
    assert "Choose a CSV file or paste it" in staff_client.post(URL, both).content.decode()
    assert not User.objects.filter(email="bob@abcinc.example").exists()


def test_a_pasted_file_works_too(staff_client, groups, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(URL, {"text": GOOD})
    assert (
        response.status_code == HTTPStatus.FOUND and User.objects.filter(email="dan@abcinc.example").exists()
    )


def test_progress_is_a_fragment_for_htmx_and_unknown_jobs_are_404(
    staff_client, groups, django_capture_on_commit_callbacks
):
    response = _upload(staff_client, GOOD, django_capture_on_commit_callbacks)
    fragment = staff_client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "<progress" in fragment and "<h1>" not in fragment
    assert staff_client.get(f"{URL}0123abcd/").status_code == HTTPStatus.NOT_FOUND


def test_auditors_cannot_import(auditor_client, django_capture_on_commit_callbacks):
    assert auditor_client.get(URL).status_code == HTTPStatus.FORBIDDEN
    assert (
        _upload(auditor_client, GOOD, django_capture_on_commit_callbacks).status_code == HTTPStatus.FORBIDDEN
    )
    assert not User.objects.filter(email="bob@abcinc.example").exists()
