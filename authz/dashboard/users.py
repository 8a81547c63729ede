"""The user page of the staff dashboard: a person's profile, access, consents and sign-ins.

It lives in ``authz`` because it is the highest app it needs: roles and groups are ours,
the profile and sessions are ``accounts``', the tokens are django-oauth-toolkit's.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from oauth2_provider.models import get_refresh_token_model

from accounts import services as account_services
from accounts.dashboard import (
    HtmxHttpRequest,
    add_service_errors,
    fragment_or_redirect,
    render_page,
    wants_fragment,
)
from accounts.decorators import staff_required
from accounts.mfa.reset import factor_counts
from accounts.mfa.reset import factors_reset as factors_reset_service
from accounts.models import User, UserSession
from accounts.sessions import user_session_list

from .. import services
from ..mfa import mfa_required
from ..models import Consent
from ..selectors import user_consents, user_groups, user_permissions_by_api, user_refresh_tokens, user_roles
from .forms import GroupAddForm, ProfileForm, RoleAssignForm
from .loss import confirm_removal, group_member_loss, role_unassign_loss

logger = logging.getLogger(__name__)

RefreshToken = get_refresh_token_model()

FRAGMENTS = ("lifecycle", "profile", "access", "mfa", "consents", "sessions", "tokens")


# --- Rendering ------------------------------------------------------------------------------


def _person_or_404(pk: int) -> User:
    return get_object_or_404(User.objects.select_related("manager"), pk=pk)


def _detail_url(person: User, anchor: str = "") -> str:
    url = reverse("users:detail", args=[person.pk])
    return f"{url}#{anchor}" if anchor else url


def _render_detail(
    request: HtmxHttpRequest, person: User, *, fragment: str | None = None, **context
) -> HttpResponse:
    """The user page, or one of its sections alone (for htmx).

    ``context`` overrides the defaults, e.g. with a bound form that has errors.
    """
    context = {"person": person, "invitation_expires": _invitation_expiry(person), **context}
    wanted = set(FRAGMENTS) if fragment is None else {fragment}
    if "profile" in wanted:
        context.setdefault("profile_form", ProfileForm.for_user(person))
    if "access" in wanted:
        context.setdefault("role_form", RoleAssignForm(person))
        context.setdefault("group_form", GroupAddForm(person))
        context["roles"] = user_roles(person)
        context["direct_role_ids"] = set(person.roles.values_list("pk", flat=True))
        context["groups"] = user_groups(person)
        context["permissions_by_api"] = user_permissions_by_api(person)
    if "consents" in wanted:
        context["consents"] = user_consents(person)
    if "sessions" in wanted:
        context["sessions"] = user_session_list(user=person)
        context["current_session_key"] = request.session.session_key
    if "tokens" in wanted:
        context["refresh_tokens"] = user_refresh_tokens(person)
    if "mfa" in wanted:
        context["factors"] = factor_counts(person)
        context["mfa_required"] = mfa_required(person)
    if fragment == "mfa":  # its own file (authz/users/_mfa.html), which the page includes
        return render_page(request, "authz/users/_mfa.html", context, fragment="mfa")
    return render_page(request, "authz/users/user_detail.html", context, fragment=fragment)


def _section_response(
    request: HtmxHttpRequest, person: User, section: str, *, notice: str = "", **context
) -> HttpResponse:
    """After a write: the section's fragment for htmx, else back to the page (PRG).

    ``context`` holds a bound form with errors, which a page without JavaScript shows whole.
    """
    if context and not wants_fragment(request):
        return _render_detail(request, person, **context)
    return fragment_or_redirect(
        request,
        lambda: _render_detail(request, person, fragment=section, notice=notice, **context),
        notice=notice,
        to=_detail_url(person, f"user-{section}"),
    )


def _invitation_expiry(person: User) -> datetime | None:
    if person.invited_at is None:
        return None
    return person.invited_at + timedelta(seconds=settings.INVITATION_TIMEOUT)


# --- Views ----------------------------------------------------------------------------------


@require_GET
@staff_required
def user_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _person_or_404(pk))


@require_POST
@staff_required
def user_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = _person_or_404(pk)
    form = ProfileForm.for_user(person, request.POST)
    if form.is_valid():
        try:
            account_services.user_update_profile(actor=request.user, user=person, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _section_response(request, _person_or_404(pk), "profile", notice="Profile saved.")
    # The failed update may have left its values on the instance: show the stored user.
    return _section_response(request, _person_or_404(pk), "profile", profile_form=form)


@require_POST
@staff_required
def role_assign(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = _person_or_404(pk)
    form = RoleAssignForm(person, request.POST)
    if not form.is_valid():
        return _section_response(request, person, "access", role_form=form)
    role = form.cleaned_data["role"]
    services.role_assign(actor=request.user, role=role, user=person)
    return _section_response(request, person, "access", notice=f"Role “{role}” assigned.")


@require_http_methods(["GET", "POST"])
@staff_required
def role_unassign(request: HtmxHttpRequest, pk: int, role_pk: int) -> HttpResponse:
    """GET: the confirm step, saying who loses what; POST: remove the role."""
    person = _person_or_404(pk)
    # Only a direct assignment can be removed here; a role held through a group is the group's.
    role = get_object_or_404(person.roles.all(), pk=role_pk)
    if request.method == "GET":
        return confirm_removal(
            request,
            question=f"Remove the role “{role.name}” from {person.email}?",
            loss=role_unassign_loss(role, person),
            action=reverse("users:role_unassign", args=[person.pk, role.pk]),
            cancel=_detail_url(person, "user-access"),
            target="user-access",
        )
    services.role_unassign(actor=request.user, role=role, user=person)
    return _section_response(request, person, "access", notice=f"Role “{role}” removed.")


@require_POST
@staff_required
def group_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = _person_or_404(pk)
    form = GroupAddForm(person, request.POST)
    if not form.is_valid():
        return _section_response(request, person, "access", group_form=form)
    group = form.cleaned_data["group"]
    services.group_add_member(actor=request.user, group=group, user=person)
    return _section_response(request, person, "access", notice=f"Added to “{group}”.")


@require_http_methods(["GET", "POST"])
@staff_required
def group_remove(request: HtmxHttpRequest, pk: int, group_pk: int) -> HttpResponse:
    """GET: the confirm step, saying who loses what; POST: take the person out of the group."""
    person = _person_or_404(pk)
    group = get_object_or_404(person.authz_groups.all(), pk=group_pk)
    if request.method == "GET":
        return confirm_removal(
            request,
            question=f"Remove {person.email} from “{group.name}”?",
            loss=group_member_loss(group, person),
            action=reverse("users:group_remove", args=[person.pk, group.pk]),
            cancel=_detail_url(person, "user-access"),
            target="user-access",
        )
    services.group_remove_member(actor=request.user, group=group, user=person)
    return _section_response(request, person, "access", notice=f"Removed from “{group}”.")


@require_POST
@staff_required
def consent_revoke(request: HtmxHttpRequest, pk: int, consent_pk: int) -> HttpResponse:
    person = _person_or_404(pk)
    consent = get_object_or_404(Consent.objects.select_related("client", "user"), user=person, pk=consent_pk)
    services.consent_revoke(actor=request.user, consent=consent)
    notice = f"Consent for “{consent.client.name}” revoked: it asks again at the next sign-in."
    return _section_response(request, person, "consents", notice=notice)


@require_POST
@staff_required
def session_end(request: HtmxHttpRequest, pk: int, session_pk: int) -> HttpResponse:
    person = _person_or_404(pk)
    session = get_object_or_404(UserSession.objects.select_related("user"), user=person, pk=session_pk)
    account_services.session_end(actor=request.user, session=session)
    logger.info("session ended: user=%s by=%s", person.pk, request.user.pk)
    return _section_response(request, person, "sessions", notice="Session ended: that browser is signed out.")


@require_POST
@staff_required
def refresh_token_revoke(request: HtmxHttpRequest, pk: int, token_pk: int) -> HttpResponse:
    person = _person_or_404(pk)
    token = get_object_or_404(
        RefreshToken.objects.select_related("application", "user"),
        user=person,
        pk=token_pk,
        revoked__isnull=True,
    )
    services.refresh_token_revoke(actor=request.user, token=token)
    logger.info("refresh token revoked: user=%s token=%s by=%s", person.pk, token.pk, request.user.pk)
    notice = f"Refresh token for “{token.application.name}” revoked."
    return _section_response(request, person, "tokens", notice=notice)


@require_http_methods(["GET", "POST"])
@staff_required
def factors_reset(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET: the confirm step, saying what goes; POST: delete the person's second factors."""
    person = get_object_or_404(User, pk=pk, deleted_at__isnull=True)
    if request.method == "GET":
        return confirm_removal(
            request,
            question=f"Reset the second factors of {person.email}?",
            loss=_reset_consequence(person),
            action=reverse("users:factors_reset", args=[person.pk]),
            cancel=_detail_url(person, "user-mfa"),
            target="user-mfa",
            button="Reset second factors",
        )
    held = factors_reset_service(actor=request.user, user=person)
    logger.info("second factors reset: user=%s by=%s", person.pk, request.user.pk)
    notice = "Second factors reset." if held.any else "Nothing to reset: they had no second factor."
    if mfa_required(person):
        notice += " They set up a new one at their next sign-in."
    return _section_response(request, person, "mfa", notice=notice)


def _reset_consequence(person: User) -> str:
    held = factor_counts(person)
    then = (
        "The policy requires a second factor for them: they set up a new one at their next sign-in."
        if mfa_required(person)
        else "They then sign in with their password alone until they set up a new one."
    )
    if not held.any:
        return f"They have no second factor: nothing is deleted. {then}"
    apps = _count(held.authenticator_apps, "authenticator app", "authenticator apps")
    keys = _count(held.passkeys, "passkey", "passkeys")
    codes = _count(held.recovery_codes_left, "unused recovery code", "unused recovery codes")
    return f"Deletes {apps}, {keys} and {codes}. Their sessions and applications stay signed in. {then}"


def _count(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


STAFF_CHOICES = {"": None, "admin": User.StaffRole.ADMIN, "auditor": User.StaffRole.AUDITOR}


@require_POST
@staff_required
def staff_role_set(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Give another person dashboard access as administrator or auditor, or take it away."""
    person = _person_or_404(pk)
    choice = request.POST.get("staff_role", "")
    if choice not in STAFF_CHOICES:
        messages.error(request, "Choose administrator, auditor or no staff access.")
        return redirect(_detail_url(person))
    try:
        account_services.user_set_staff_role(actor=request.user, user=person, role=STAFF_CHOICES[choice])
    except PermissionDenied as error:
        messages.error(request, str(error))
        return redirect(_detail_url(person))
    messages.success(request, "Staff access updated.")
    return redirect(_detail_url(person))
