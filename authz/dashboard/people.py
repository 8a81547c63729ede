"""A person's lifecycle in the staff dashboard: invite (resend, revoke), a password reset
link, block and unblock, delete. Each page or button calls one ``accounts`` service; the
person's page itself is ``users``'."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as account_services
from accounts.dashboard import (
    ConfirmForm,
    HtmxHttpRequest,
    add_service_errors,
    navigate,
    render_page,
    wants_fragment,
)
from accounts.decorators import admin_required, staff_required
from accounts.models import User

from .. import services
from ..oauth.backchannel import with_backchannel_logout
from ..people_import import COLUMNS, people_import_parse, people_import_progress, people_import_start
from .forms import PeopleImportForm, PersonCreateForm
from .users import _detail_url, _person_or_404, _section_response

logger = logging.getLogger(__name__)

DEACTIVATE_CONSEQUENCE = (
    "I understand that this person is signed out everywhere and their applications lose access."
)
DELETE_CONSEQUENCE = "I understand that this person can never sign in again and that this cannot be undone."


def _status_page(request: HtmxHttpRequest, person: User, action: str, **context) -> HttpResponse:
    return render(request, "authz/users/user_status.html", {"person": person, "action": action, **context})


def _confirmed(
    request: HtmxHttpRequest,
    person: User,
    action: str,
    *,
    consequence: str,
    run: Callable[[], object],
    done: str,
    to: str,
) -> HttpResponse:
    """A destructive step's page: GET says what happens; a POST with the box ticked calls
    ``run`` and goes to ``to`` saying ``done``; a refusal shows on the same page."""
    form = ConfirmForm(request.POST if request.method == "POST" else None, consequence=consequence)
    if form.is_valid():
        try:
            run()
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            logger.info("user %s: user=%s by=%s", action, person.pk, request.user.pk)
            messages.success(request, done)
            return redirect(to)
    return _status_page(request, person, action, form=form)


@require_http_methods(["GET", "POST"])
@staff_required
def user_deactivate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Block: the person cannot sign in, is signed out everywhere, and their tokens end."""
    person = _person_or_404(pk)
    return _confirmed(
        request,
        person,
        "deactivate",
        consequence=DEACTIVATE_CONSEQUENCE,
        run=lambda: account_services.user_deactivate(
            actor=request.user,
            user=person,
            revoke_access=with_backchannel_logout(services.user_access_revoke),
        ),
        done=f"Blocked: {person.email} is deactivated and signed out everywhere.",
        to=_detail_url(person),
    )


@require_http_methods(["GET", "POST"])
@staff_required
def user_reactivate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = _person_or_404(pk)
    if request.method == "POST":
        try:
            account_services.user_reactivate(actor=request.user, user=person)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("users:detail", pk=person.pk)
        logger.info("user reactivated: user=%s by=%s", person.pk, request.user.pk)
        messages.success(request, f"Unblocked: {person.email} can sign in again.")
        return redirect("users:detail", pk=person.pk)
    return _status_page(request, person, "reactivate")


@require_http_methods(["GET", "POST"])
@admin_required
def user_create(request: HtmxHttpRequest) -> HttpResponse:
    """Create a person and email them an invitation; an address in use is refused inline."""
    form = PersonCreateForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        data, groups = form.cleaned_data, form.cleaned_data["groups"]

        def join_groups(person: User) -> None:
            for group in groups:
                services.group_add_member(actor=request.user, group=group, user=person)

        try:
            person = account_services.user_invite(
                actor=request.user,
                email=data["email"],
                name=data["name"],
                worker_type=data["worker_type"],
                manager=data["manager"],
                setup=join_groups,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            logger.info("user invited: user=%s by=%s", person.pk, request.user.pk)
            messages.success(request, f"Invitation sent to {person.email}.")
            return navigate(request, _detail_url(person))
    return render_page(
        request,
        "authz/users/user_create.html",
        {"form": form},
        fragment="form" if wants_fragment(request) else None,
    )


# The buttons of the "Sign-in" section: the service each runs, and what it says when done.
LIFECYCLE_ACTIONS: dict[str, tuple[Callable[..., User], str]] = {
    "invitation_resend": (
        account_services.invitation_resend,
        "A new invitation is on its way to {}; earlier links no longer work.",
    ),
    "invitation_revoke": (
        account_services.invitation_revoke,
        "The invitation of {} is revoked: its links no longer work.",
    ),
    "password_reset": (
        account_services.password_reset_send,
        "A single-use link to choose a new password is on its way to {}.",
    ),
}


@require_POST
@staff_required
def user_lifecycle(request: HtmxHttpRequest, pk: int, action: str) -> HttpResponse:
    """Resend or revoke an invitation, or email a reset link (``action``, set by the URL);
    a refusal is shown in the same section."""
    person = _person_or_404(pk)
    service, notice = LIFECYCLE_ACTIONS[action]
    try:
        service(actor=request.user, user=person)
    except ValidationError as error:
        return _section_response(request, person, "lifecycle", lifecycle_error=" ".join(error.messages))
    logger.info("%s: user=%s by=%s", action, person.pk, request.user.pk)
    return _section_response(request, _person_or_404(pk), "lifecycle", notice=notice.format(person.email))


@require_http_methods(["GET", "POST"])
@admin_required
def user_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET: what deleting does; POST (ticked): the person becomes a tombstone."""
    person = _person_or_404(pk)
    return _confirmed(
        request,
        person,
        "delete",
        consequence=DELETE_CONSEQUENCE,
        run=lambda: account_services.user_delete(
            actor=request.user,
            user=person,
            revoke_access=with_backchannel_logout(services.user_access_forget),
        ),
        done=f"{person.email} is deleted.",
        to=reverse("accounts:user_list"),
    )


# --- Bulk invitations from CSV ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@admin_required
def people_import(request: HtmxHttpRequest) -> HttpResponse:
    """Upload a CSV: every error in it is listed and nothing happens, or a job invites everyone."""
    posted = request.method == "POST"
    form = PeopleImportForm(request.POST if posted else None, request.FILES if posted else None)
    errors: list[str] = []
    if form.is_valid():
        rows, errors = people_import_parse(form.cleaned_data["content"])
        if not errors:
            job = people_import_start(actor=request.user, rows=rows)
            logger.info("people import queued: job=%s rows=%s by=%s", job, len(rows), request.user.pk)
            return navigate(request, reverse("users:import_job", args=[job]))
    context = {"form": form, "errors": errors, "columns": COLUMNS}
    return render_page(request, "authz/users/people_import.html", context)


@require_GET
@staff_required
def people_import_job(request: HtmxHttpRequest, job: str) -> HttpResponse:
    """The job's progress bar; htmx asks again every second until it has finished."""
    progress = people_import_progress(job)
    if progress is None:
        raise Http404("No such import, or it finished more than a day ago.")
    return render_page(
        request,
        "authz/users/people_import_job.html",
        {"job": job, "progress": progress},
        fragment="progress" if wants_fragment(request) else None,
    )
