"""The timesheet pages people use with their session: their week, approvals, bulk jobs.

Every write goes through ``services`` (the same code as the API), so the pages and the mobile
app cannot disagree about quarter hours, the 24-hour day or who may approve whom.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from http import HTTPStatus
from itertools import groupby

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from accounts.dashboard import (
    HtmxHttpRequest,
    add_service_errors,
    fragment_or_redirect,
    render_page_or_fragment,
    wants_fragment,
)
from accounts.decorators import login_required, staff_required
from accounts.models import User

from . import decisions, selectors, services
from .forms import ConfirmForm, EntryForm, RejectForm, week_days
from .models import BulkJob, Entry
from .policies import is_approver, may_decide

ONE_WEEK = datetime.timedelta(days=7)
BULK_JOBS_SHOWN = 50
NOTHING_WAITS = "Nothing of this person's waits for you in that week."


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _hours(minutes: int) -> Decimal:
    return Decimal(minutes) / 60


def _week_or_404(monday: datetime.date) -> datetime.date:
    if monday.weekday():
        raise Http404("A week starts on a Monday.")
    return monday


def approver_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and allowed to approve timesheets by the same policy as the API."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_approver(request.user):
            raise PermissionDenied("Approvals are for people who approve timesheets.")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


# --- My week ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    date: datetime.date
    entries: list[Entry]

    @property
    def hours(self) -> Decimal:
        return _hours(sum(entry.minutes for entry in self.entries))


def _week_context(user: User, monday: datetime.date) -> dict[str, object]:
    entries = list(selectors.week_entries(worker=user, monday=monday))
    today = timezone.localdate()
    sunday = monday + datetime.timedelta(days=6)
    context: dict[str, object] = {
        "monday": monday,
        "sunday": sunday,
        "today": today,
        "days": [Day(day, [entry for entry in entries if entry.date == day]) for day in week_days(monday)],
        "week_hours": _hours(sum(entry.minutes for entry in entries)),
        "drafts": sum(entry.status == Entry.Status.DRAFT for entry in entries),
        "draft_hours": _hours(sum(entry.minutes for entry in entries if entry.status == Entry.Status.DRAFT)),
    }
    try:
        context["previous"], context["next"] = monday - ONE_WEEK, monday + ONE_WEEK
    except OverflowError:  # the calendar's first or last week: no link past it
        context["previous"] = context["next"] = None
    # Today's date when it is in this week: the day people most often log.
    context["new_entry_day"] = today if monday <= today <= sunday else monday
    return context


def _render_week(
    request: HtmxHttpRequest,
    monday: datetime.date,
    *,
    fragment: str = "week",
    status: int = HTTPStatus.OK,
    **context,
) -> HttpResponse:
    """The week page, or one of its fragments alone (for htmx); ``context`` overrides the
    defaults, e.g. with a bound form that has errors."""
    context = {**_week_context(request.user, monday), **context}
    context.setdefault("form", EntryForm(monday=monday, initial={"date": context["new_entry_day"]}))
    if not wants_fragment(request):
        context["is_approver"] = is_approver(request.user)
    return render_page_or_fragment(request, "timesheets/week.html", fragment, context, status=status)


def _week_refused(request: HtmxHttpRequest, monday: datetime.date, message: str) -> HttpResponse:
    """The entry changed state under the person (approved meanwhile, say): say so in place."""
    if not request.htmx:
        messages.error(request, message)
        return redirect("timesheets:week", monday)
    response = _render_week(request, monday, error=message, status=HTTPStatus.CONFLICT)
    # Whatever asked (an edit row included), the answer is the whole week.
    return reswap(retarget(response, "#week"), "innerHTML")


def _week_saved(request: HtmxHttpRequest, monday: datetime.date, notice: str, **context) -> HttpResponse:
    return fragment_or_redirect(
        request,
        lambda: _render_week(request, monday, notice=notice, **context),
        notice=notice,
        to=reverse("timesheets:week", args=[monday]),
    )


def _confirmed(request: HtmxHttpRequest) -> bool:
    return ConfirmForm(request.POST).is_valid()


def _confirm_page(request: HtmxHttpRequest, kind: str, *, cancel: str, **context) -> HttpResponse:
    """What a one-way action (``kind``) does, and a form for the yes: where a form posted
    without JavaScript lands (htmx asks first, in the same words, and sends the yes)."""
    context = {"kind": kind, "action": request.path, "cancel": cancel, "form": ConfirmForm(), **context}
    return render(request, "timesheets/confirm.html", context)


def _own_entry_or_404(request: HtmxHttpRequest, pk: int) -> Entry:
    entry = selectors.entry_visible(user=request.user, pk=pk)
    if entry is None:
        raise Http404("No such entry.")
    return entry


@require_GET
@login_required
def week(request: HtmxHttpRequest, monday: datetime.date | None = None) -> HttpResponse:
    if monday is None:
        monday = _monday(timezone.localdate())
    elif monday.weekday():
        return redirect("timesheets:week", _monday(monday))
    return _render_week(request, monday)


@require_POST
@login_required
def entry_create(request: HtmxHttpRequest, monday: datetime.date) -> HttpResponse:
    monday = _week_or_404(monday)
    form = EntryForm(request.POST, monday=monday)
    if form.is_valid():
        try:
            entry = services.entry_create(worker=request.user, **form.cleaned_data, source=Entry.Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            notice = f"Added {entry.hours:f} h on {entry.project} for {entry.date:%a %d %b}."
            # The next entry most likely goes on the same day.
            next_form = EntryForm(monday=monday, initial={"date": entry.date})
            return _week_saved(request, monday, notice, form=next_form)
    return _render_week(request, monday, form=form)


@require_http_methods(["GET", "POST"])
@login_required
def entry_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET: the entry as an edit row (alone for htmx); POST: save it and show the week."""
    entry = _own_entry_or_404(request, pk)
    monday = _monday(entry.date)
    if entry.status not in {Entry.Status.DRAFT, Entry.Status.REJECTED}:
        return _week_refused(
            request, monday, f"This entry is {entry.get_status_display().lower()}: it cannot be edited."
        )
    form = EntryForm.for_entry(entry, monday, request.POST if request.method == "POST" else None)
    if request.method == "GET":
        fragment = "entry_edit"
    elif form.is_valid():
        try:
            entry = services.entry_update(entry=entry, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except services.InvalidTransition as error:
            return _week_refused(request, monday, str(error))
        else:
            return _week_saved(request, monday, f"Saved {entry.project} on {entry.date:%a %d %b}.")
        fragment = "week"
    else:
        fragment = "week"
    return _render_week(request, monday, fragment=fragment, entry=entry, editing=entry.pk, edit_form=form)


@require_POST
@login_required
def entry_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    entry = _own_entry_or_404(request, pk)
    monday = _monday(entry.date)
    notice = f"Deleted {entry.project} on {entry.date:%a %d %b}."
    try:
        services.entry_delete(entry=entry)
    except services.InvalidTransition as error:
        return _week_refused(request, monday, str(error))
    return _week_saved(request, monday, notice)


@require_POST
@login_required
def week_submit(request: HtmxHttpRequest, monday: datetime.date) -> HttpResponse:
    monday = _week_or_404(monday)
    cancel = reverse("timesheets:week", args=[monday])
    if not _confirmed(request):
        return _confirm_page(request, "submit_week", cancel=cancel, **_week_context(request.user, monday))
    count = services.week_submit(worker=request.user, monday=monday)
    if count:
        notice = f"Submitted {count} {'entry' if count == 1 else 'entries'} for approval."
    else:
        notice = "Nothing to submit: this week has no drafts."
    return _week_saved(request, monday, notice)


# --- Approvals --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonWeek:
    monday: datetime.date
    entries: list[Entry]

    @property
    def hours(self) -> Decimal:
        return _hours(sum(entry.minutes for entry in self.entries))


@dataclass(frozen=True)
class Person:
    worker: User
    weeks: list[PersonWeek]

    @property
    def hours(self) -> Decimal:
        return sum((week.hours for week in self.weeks), Decimal(0))


def _people(entries: Iterable[Entry]) -> list[Person]:
    """Entries (ordered by person, then date) grouped per person and week."""
    people = []
    for _, group in groupby(entries, key=lambda entry: entry.worker_id):
        own = list(group)
        by_week = groupby(own, key=lambda entry: _monday(entry.date))
        people.append(Person(own[0].worker, [PersonWeek(monday, list(week)) for monday, week in by_week]))
    return people


def _decidable_or_404(request: HtmxHttpRequest, pk: int) -> Entry:
    # One's own entry is found too, so that entry_decide refuses it with its own words (403).
    entry = selectors.entry_visible(user=request.user, pk=pk, as_approver=True)
    if entry is None:
        raise Http404("No such entry.")
    return entry


def _render_approvals(
    request: HtmxHttpRequest, worker: User, *, status: int = HTTPStatus.OK, **context
) -> HttpResponse:
    """For htmx, the one person's block (empty once everything is decided); else the page."""
    queue = selectors.approval_queue(approver=request.user)
    if wants_fragment(request):
        person = next(iter(_people(queue.filter(worker=worker))), None) or Person(worker, [])
        context = {"person": person, **context}
    else:
        context = {"people": _people(queue), **context}
    return render_page_or_fragment(request, "timesheets/approvals.html", "person", context, status=status)


def _decided(request: HtmxHttpRequest, worker: User, notice: str) -> HttpResponse:
    return fragment_or_redirect(
        request,
        lambda: _render_approvals(request, worker, notice=notice),
        notice=notice,
        to="timesheets:approvals",
    )


def _decision_refused(request: HtmxHttpRequest, worker: User, message: str) -> HttpResponse:
    if not request.htmx:
        messages.error(request, message)
        return redirect("timesheets:approvals")
    return _render_approvals(request, worker, error=message, status=HTTPStatus.CONFLICT)


@require_GET
@approver_required
def approvals(request: HtmxHttpRequest) -> HttpResponse:
    people = _people(selectors.approval_queue(approver=request.user))
    return render(request, "timesheets/approvals.html", {"people": people})


@require_POST
@approver_required
def entry_approve(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    entry = _decidable_or_404(request, pk)
    # Ask only when the answer can be yes: a refusal (one's own time, decided already) comes at once.
    if (
        not _confirmed(request)
        and entry.status == Entry.Status.SUBMITTED
        and may_decide(request.user, entry.worker)
    ):
        return _confirm_page(request, "approve", cancel=reverse("timesheets:approvals"), entry=entry)
    try:
        entry = decisions.entry_decide(entry=entry, approver=request.user, approve=True)
    except services.InvalidTransition as error:
        return _decision_refused(request, entry.worker, str(error))
    return _decided(request, entry.worker, f"Approved {entry.project} on {entry.date:%a %d %b}.")


@require_POST
@approver_required
def entry_reject(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    entry = _decidable_or_404(request, pk)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            entry = decisions.entry_decide(
                entry=entry, approver=request.user, approve=False, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except services.InvalidTransition as error:
            return _decision_refused(request, entry.worker, str(error))
        else:
            return _decided(request, entry.worker, f"Rejected {entry.project} on {entry.date:%a %d %b}.")
    return _render_approvals(request, entry.worker, failed_entry=entry.pk, reject_form=form)


@require_POST
@approver_required
def week_approve(request: HtmxHttpRequest, worker_pk: int, monday: datetime.date) -> HttpResponse:
    """Approve everything one person submitted for one week, or nothing."""
    monday = _week_or_404(monday)
    worker = selectors.person_by_pk(worker_pk)
    if worker is None:
        raise Http404(NOTHING_WAITS)
    if not _confirmed(request):
        waiting = selectors.week_awaiting_approval(approver=request.user, worker_pk=worker.pk, monday=monday)
        for person in _people(waiting):  # one person, one week, or nobody: 404 below
            cancel = reverse("timesheets:approvals")
            return _confirm_page(request, "approve_week", cancel=cancel, person=person, week=person.weeks[0])
    try:
        approved = decisions.week_approve(actor=request.user, worker=worker, monday=monday)
    except services.InvalidTransition as error:
        return _decision_refused(request, worker, str(error))
    if not approved:
        raise Http404(NOTHING_WAITS)
    count = len(approved)
    notice = f"Approved {count} {'entry' if count == 1 else 'entries'} for the week of {monday:%d %b}."
    return _decided(request, worker, notice)


# --- Bulk jobs (staff) ------------------------------------------------------------------------


@require_GET
@staff_required
def bulk_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "timesheets/bulk_list.html", {"jobs": selectors.bulk_job_list()[:BULK_JOBS_SHOWN]})


@require_GET
@never_cache
@staff_required
def bulk_job(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(selectors.bulk_job_list(), pk=pk)
    context = {"job": job, "in_progress": job.status in {BulkJob.Status.PENDING, BulkJob.Status.RUNNING}}
    return render_page_or_fragment(request, "timesheets/bulk_job.html", "progress", context)
