"""The Roles section of the staff dashboard (Auth0's Authorization Extension), and "Who can?"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.dashboard import (
    HtmxHttpRequest,
    add_service_errors,
    fragment_or_redirect,
    navigate,
    render_page,
    render_page_or_fragment,
    wants_fragment,
)
from accounts.decorators import staff_required
from accounts.listing import list_query, ordering, search_filter
from accounts.models import User
from accounts.selectors import user_list
from authz import selectors, services
from authz.models import Role

from .forms import PermissionsForm, RoleForm, UserPickForm, WhoCanForm
from .loss import confirm_removal, role_delete_loss, role_permissions_loss, role_unassign_loss

# Enough to find someone by a few letters of their name or email; narrow the search for more.
SEARCH_LIMIT = 10


@dataclass(frozen=True)
class HolderRow:
    """A holder of the role on the role's page: how they hold it, and whether directly."""

    user: User
    reasons: tuple[str, ...]
    direct: bool


def user_matches(query: str) -> list[User]:
    """The users a search-as-you-type box offers for ``query`` (none for an empty query)."""
    return list(user_list(search=query)[:SEARCH_LIMIT]) if query else []


def search_query(data: QueryDict) -> str:
    return data.get("q", "").strip()[:100]


def _role_or_404(pk: int) -> Role:
    return get_object_or_404(selectors.role_list(), pk=pk)


def _detail_url(role: Role, *, anchor: str = "", query: str = "") -> str:
    url = reverse("roles:detail", args=[role.pk])
    if query:
        url += "?" + urlencode({"q": query})
    return f"{url}#{anchor}" if anchor else url


def _holder_rows(role: Role, assigned: set[int]) -> list[HolderRow]:
    # On the role's own page "role Approver" says nothing: say how it is held instead.
    direct_reason = f"role {role.name}"
    rows = []
    for holder in selectors.holders_of_roles({role.pk: role.name}):
        reasons = tuple(
            "assigned directly" if reason == direct_reason else reason.removeprefix(direct_reason).strip()
            for reason in holder.reasons
        )
        rows.append(HolderRow(holder.user, reasons, direct=holder.user.pk in assigned))
    return rows


def _render_detail(
    request: HtmxHttpRequest, role: Role, *, fragment: str | None = None, **context
) -> HttpResponse:
    """The role's page, or one of its fragments alone (for htmx).

    ``context`` overrides the defaults, e.g. with a bound form that has errors.
    """
    context = {"role": role, **context}
    if fragment is None:
        context.setdefault("settings_form", RoleForm.for_role(role))
    if fragment in (None, "permissions"):
        context.setdefault("permissions_form", PermissionsForm.for_role(role))
    if fragment in (None, "holders", "user_results"):
        query = context.setdefault("q", "")
        context["matches"] = user_matches(query)
        context["assigned"] = set(role.users.values_list("pk", flat=True))
    if fragment in (None, "holders"):
        context["holders"] = _holder_rows(role, context["assigned"])
        context["groups"] = role.groups.annotate(member_count=Count("members")).order_by("name")
    return render_page(request, "authz/roles/role_detail.html", context, fragment=fragment)


# The list's columns that sort, and the fields each orders by.
ROLE_LIST_SORTS = {"name": ("name",), "holders": ("user_count", "name")}


def _role_listing(params: QueryDict) -> dict[str, Any]:
    """The page of roles the list's search, sort and page ask for."""
    wanted = list_query(params, columns=tuple(ROLE_LIST_SORTS), default_sort="name")
    roles = selectors.role_overview().filter(search_filter(wanted.search, ("name", "description")))
    listing = wanted.paginate(roles.order_by(*ordering(wanted.sort, ROLE_LIST_SORTS)))
    return {"listing": listing, "roles": listing.rows}


def _list_response(request: HtmxHttpRequest, form: RoleForm) -> HttpResponse:
    """The list with the create form, or the form alone (for htmx; the list is not queried)."""
    context = {"form": form, **({} if wants_fragment(request) else _role_listing(request.GET))}
    return render_page_or_fragment(request, "authz/roles/role_list.html", "create_form", context)


@require_GET
@staff_required
def role_list(request: HtmxHttpRequest) -> HttpResponse:
    if wants_fragment(request):  # the search box, a column header or the pager: the results
        return render_page(
            request, "authz/roles/role_list.html", _role_listing(request.GET), fragment="results"
        )
    return _list_response(request, RoleForm())


@require_POST
@staff_required
def role_create(request: HtmxHttpRequest) -> HttpResponse:
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            role = services.role_create(**form.cleaned_data, actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Role “{role.name}” created. Give it permissions below.")
            return navigate(request, reverse("roles:detail", args=[role.pk]))
    return _list_response(request, form)


@require_GET
@staff_required
def role_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    role = _role_or_404(pk)
    query = search_query(request.GET)
    # The search box asks for its results only.
    fragment = "user_results" if wants_fragment(request) and "q" in request.GET else None
    return _render_detail(request, role, fragment=fragment, q=query)


@require_POST
@staff_required
def role_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    role = _role_or_404(pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.role_update(role=role, **form.cleaned_data, actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Role saved.")
            return redirect("roles:detail", pk=role.pk)
    # The failed update left its values on the instance: show the stored role.
    return _render_detail(request, _role_or_404(pk), settings_form=form)


@require_POST
@staff_required
def role_permissions(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    role = _role_or_404(pk)
    form = PermissionsForm(request.POST)
    if form.is_valid() and _removes_unconfirmed(request, role, form):
        # Say who loses what before a permission is taken away; saving again confirms.
        loss = role_permissions_loss(role, form.cleaned_data["permissions"])
        fragment = "permissions" if wants_fragment(request) else None
        return _render_detail(request, role, fragment=fragment, permissions_form=form, permissions_loss=loss)
    if form.is_valid():
        services.role_set_permissions(
            role=role, permissions=form.cleaned_data["permissions"], actor=request.user
        )
        count = len(form.cleaned_data["permissions"])
        notice = f"Permissions saved: {count} permission{'s' if count != 1 else ''}."
        return fragment_or_redirect(
            request,
            lambda: _render_detail(request, role, fragment="permissions", permissions_notice=notice),
            notice=notice,
            to=_detail_url(role, anchor="role-permissions"),
        )
    fragment = "permissions" if wants_fragment(request) else None
    return _render_detail(request, role, fragment=fragment, permissions_form=form)


def _removes_unconfirmed(request: HtmxHttpRequest, role: Role, form: PermissionsForm) -> bool:
    """The form takes a permission from ``role`` and was not sent with the confirm button."""
    kept = {scope.pk for scope in form.cleaned_data["permissions"]}
    removes = role.permissions.exclude(pk__in=kept).exists()
    return removes and request.POST.get("confirmed") != "1"


def _holders_changed(request: HtmxHttpRequest, role: Role, *, query: str, notice: str) -> HttpResponse:
    """After a direct assignment changed: the holders fragment for htmx, else back to the page."""
    return fragment_or_redirect(
        request,
        lambda: _render_detail(request, role, fragment="holders", q=query, holders_notice=notice),
        notice=notice,
        to=_detail_url(role, anchor="role-holders", query=query),
    )


@require_POST
@staff_required
def role_assign(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    role = _role_or_404(pk)
    form = UserPickForm(request.POST)
    if not form.is_valid():
        fragment = "holders" if wants_fragment(request) else None
        return _render_detail(
            request, role, fragment=fragment, q=search_query(request.POST), assign_form=form
        )
    user = form.cleaned_data["user"]
    services.role_assign(role=role, user=user, actor=request.user)
    notice = f"“{role.name}” assigned to {user.email}."
    return _holders_changed(request, role, query=search_query(request.POST), notice=notice)


@require_http_methods(["GET", "POST"])
@staff_required
def role_unassign(request: HtmxHttpRequest, pk: int, user_pk: int) -> HttpResponse:
    """GET: the confirm step, saying who loses what; POST: unassign."""
    role = _role_or_404(pk)
    user = get_object_or_404(role.users.all(), pk=user_pk)
    if request.method == "GET":
        return confirm_removal(
            request,
            question=f"Unassign “{role.name}” from {user.email}?",
            loss=role_unassign_loss(role, user),
            action=reverse("roles:unassign", args=[role.pk, user.pk]),
            cancel=_detail_url(role, anchor="role-holders"),
            target="role-holders",
            button="Unassign",
            q=search_query(request.GET),
        )
    services.role_unassign(role=role, user=user, actor=request.user)
    notice = f"“{role.name}” is no longer assigned to {user.email} directly."
    return _holders_changed(request, role, query=search_query(request.POST), notice=notice)


@require_http_methods(["GET", "POST"])
@staff_required
def role_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    role = _role_or_404(pk)
    if request.method == "POST":
        name = role.name
        services.role_delete(role=role, actor=request.user)
        messages.success(request, f"Role “{name}” deleted.")
        return redirect("roles:list")
    context = {
        "role": role,
        "holder_count": len(selectors.holders_of_roles({role.pk: role.name})),
        "loss": role_delete_loss(role),
        "groups": role.groups.order_by("name"),
    }
    return render(request, "authz/roles/role_delete.html", context)


@require_GET
@staff_required
def who_can(request: HtmxHttpRequest) -> HttpResponse:
    form = WhoCanForm(request.GET if "scope" in request.GET else None)
    context: dict[str, object] = {"form": form}
    if form.is_valid():
        scope = form.cleaned_data["scope"]
        context |= {
            "scope": scope,
            "holders": selectors.who_has_permission(scope),
            "roles": scope.roles.order_by("name"),
        }
    return render_page_or_fragment(request, "authz/roles/who_can.html", "results", context)
