"""One-way actions on the timesheet pages ask first, saying what they do, with or without JavaScript.

Submitting a week and approving (an entry or a whole week) cannot be undone by the person who
does it. Without JavaScript the first post answers with a confirmation page and changes
nothing; with htmx the button's dialog says the same words and its yes travels with the post.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from accounts.models import User
from apis.services import api_update
from authz.services import role_assign, role_create, role_set_permissions
from timesheets.models import Entry

from .conftest import MONDAY, make_entry

pytestmark = pytest.mark.django_db
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
WEEK = reverse("timesheets:week", args=[MONDAY])
SUBMIT = reverse("timesheets:week_submit", args=[MONDAY])
APPROVALS = reverse("timesheets:approvals")
YES = {"confirmed": "true"}
FINAL = "Approved time is final: nobody can edit or delete it afterwards."


def _as(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _statuses() -> set[str]:
    return set(Entry.objects.values_list("status", flat=True))


@pytest.fixture
def approver(manager, timesheets_api) -> User:
    api_update(api=timesheets_api, rbac_enabled=True)
    role = role_create(actor=None, name="Timesheet approvers")
    role_set_permissions(
        actor=None, role=role, permissions=timesheets_api.scopes.filter(value="approve:timesheets")
    )
    role_assign(actor=None, role=role, user=manager)
    return manager


def _assert_asks(response, *, action: str, cancel: str, consequence: str) -> None:
    """The confirmation page: the consequence, a form that posts the yes back, a way out."""
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert consequence in html
    assert f'<form method="post" action="{action}"' in html
    assert 'type="hidden" name="confirmed" value="True"' in html
    assert f'<a class="button" href="{cancel}">Cancel</a>' in html
    assert "<script>" not in html


def test_submitting_a_week_without_javascript_asks_first_and_changes_nothing(worker):
    make_entry(worker, day=0, minutes=450)
    make_entry(worker, day=1, minutes=480)
    http = _as(worker)

    response = http.post(SUBMIT)

    _assert_asks(
        response,
        action=SUBMIT,
        cancel=WEEK,
        consequence="Submit 2 drafts (15.5 h) for the week of 16 Nov 2026? Your manager decides on them; "
        "until then you can neither edit nor delete them.",
    )
    assert _statuses() == {Entry.Status.DRAFT}

    # The confirmation page's own form: the yes as it renders it.
    response = http.post(SUBMIT, {"confirmed": "True"})
    assert response["Location"] == WEEK
    assert _statuses() == {Entry.Status.SUBMITTED}


@pytest.mark.parametrize("no", [{}, {"confirmed": ""}, {"confirmed": "false"}])
def test_only_a_yes_submits(worker, no):
    make_entry(worker)
    assert _as(worker).post(SUBMIT, no, **HTMX).status_code == HTTPStatus.OK
    assert _statuses() == {Entry.Status.DRAFT}


def test_approving_an_entry_without_javascript_asks_first(worker, approver):
    entry = make_entry(worker, status=Entry.Status.SUBMITTED, minutes=450)
    url = reverse("timesheets:entry_approve", args=[entry.pk])
    http = _as(approver)

    _assert_asks(
        http.post(url),
        action=url,
        cancel=APPROVALS,
        consequence=f"Approve 7.5 h on Apollo by Alice Anders on Monday 16 Nov? {FINAL}",
    )
    assert _statuses() == {Entry.Status.SUBMITTED}

    assert http.post(url, YES)["Location"] == APPROVALS
    assert _statuses() == {Entry.Status.APPROVED}


def test_approving_ones_own_entry_is_refused_before_any_question(approver):
    own = make_entry(approver, status=Entry.Status.SUBMITTED)
    response = _as(approver).post(reverse("timesheets:entry_approve", args=[own.pk]))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert _statuses() == {Entry.Status.SUBMITTED}


def test_approving_a_whole_week_without_javascript_asks_first(worker, bob, approver):
    for day in (0, 1, 4):
        make_entry(worker, day=day, status=Entry.Status.SUBMITTED)
    bobs = make_entry(bob, status=Entry.Status.SUBMITTED)
    url = reverse("timesheets:week_approve", args=[worker.pk, MONDAY])
    http = _as(approver)

    _assert_asks(
        http.post(url),
        action=url,
        cancel=APPROVALS,
        consequence="Approve the 3 entries (24 h) Alice Anders submitted for the week of 16 Nov 2026? "
        + FINAL,
    )
    assert _statuses() == {Entry.Status.SUBMITTED}

    assert http.post(url, YES)["Location"] == APPROVALS
    assert set(Entry.objects.filter(worker=worker).values_list("status", flat=True)) == {
        Entry.Status.APPROVED
    }
    bobs.refresh_from_db()
    assert bobs.status == Entry.Status.SUBMITTED


def test_the_pages_buttons_ask_in_the_same_words_and_send_the_yes(worker, approver):
    draft = make_entry(worker, day=0, minutes=450)
    week_html = _as(worker).get(WEEK).content.decode()
    assert (
        'hx-confirm="Submit 1 draft (7.5 h) for the week of 16 Nov 2026? Your manager decides on them; '
        'until then you can neither edit nor delete them."' in week_html
    )
    assert 'hx-vals=\'{"confirmed": "true"}\'' in week_html

    draft.status = Entry.Status.SUBMITTED
    draft.save()
    approvals_html = _as(approver).get(APPROVALS).content.decode()
    assert f'hx-confirm="Approve 7.5 h on Apollo by Alice Anders on Monday 16 Nov? {FINAL}"' in approvals_html
    assert (
        'hx-confirm="Approve the 1 entry (7.5 h) Alice Anders submitted for the week of 16 Nov 2026? '
        f'{FINAL}"' in approvals_html
    )
    assert approvals_html.count('hx-vals=\'{"confirmed": "true"}\'') == 2


def test_a_project_name_cannot_break_out_of_the_question(worker, approver):
    make_entry(worker, project='Apollo" hx-post="/elsewhere', status=Entry.Status.SUBMITTED)
    html = _as(approver).get(APPROVALS).content.decode()
    assert "Approve 8 h on Apollo&quot; hx-post=&quot;/elsewhere by Alice Anders" in html
    assert 'hx-post="/elsewhere' not in html
