"""Decisions on submitted time, through the services the pages and the API share."""

from __future__ import annotations

import pytest

from accounts.models import User
from timesheets import decisions, services
from timesheets.models import Entry

from .conftest import MONDAY, make_entry

pytestmark = pytest.mark.django_db


def test_week_approve_approves_the_persons_week_and_nothing_else(worker, bob, manager):
    week = [make_entry(worker, day=day, status=Entry.Status.SUBMITTED) for day in (0, 3, 6)]
    draft = make_entry(worker, day=2)
    later = make_entry(worker, day=7, status=Entry.Status.SUBMITTED)
    bobs = make_entry(bob, status=Entry.Status.SUBMITTED)

    approved = decisions.week_approve(actor=manager, worker=worker, monday=MONDAY)

    assert sorted(entry.pk for entry in approved) == [entry.pk for entry in week]
    assert {entry.decided_by for entry in approved} == {manager}
    statuses = dict(Entry.objects.values_list("pk", "status"))
    assert {statuses[entry.pk] for entry in week} == {Entry.Status.APPROVED}
    assert statuses[draft.pk] == Entry.Status.DRAFT
    assert statuses[later.pk] == statuses[bobs.pk] == Entry.Status.SUBMITTED


def test_week_approve_is_all_or_nothing(worker, manager, monkeypatch):
    week = [make_entry(worker, day=day, status=Entry.Status.SUBMITTED) for day in (0, 1, 2)]
    decide = decisions.entry_decide

    def decided_meanwhile(*, entry: Entry, **kwargs) -> Entry:
        # Someone else decides on the last entry while the week is being approved.
        if entry.pk == week[-1].pk:
            Entry.objects.filter(pk=entry.pk).update(status=Entry.Status.APPROVED)
        return decide(entry=entry, **kwargs)

    monkeypatch.setattr(decisions, "entry_decide", decided_meanwhile)
    with pytest.raises(services.InvalidTransition):
        decisions.week_approve(actor=manager, worker=worker, monday=MONDAY)

    assert set(Entry.objects.values_list("status", flat=True)) == {Entry.Status.SUBMITTED}


def test_week_approve_leaves_what_the_approver_may_not_decide(worker, password):
    stranger = User.objects.create_user(email="stranger@abcinc.example", password=password)
    make_entry(worker, status=Entry.Status.SUBMITTED)

    assert decisions.week_approve(actor=stranger, worker=worker, monday=MONDAY) == []
    assert decisions.week_approve(actor=worker, worker=worker, monday=MONDAY) == []
    assert Entry.objects.get().status == Entry.Status.SUBMITTED
