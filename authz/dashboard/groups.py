"""The Groups section of the staff dashboard: members, roles and nested groups."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
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
from authz import selectors, services
from authz.models import Group

from .forms import GroupForm, RolePickForm, SubgroupForm, UserPickForm
from .loss import confirm_removal, group_delete_loss, group_member_loss, group_role_loss, group_unnest_loss
from .roles import search_query, user_matches

# Each section of the group's page: the fragment htmx swaps, and the id it sits in.
SECTIONS = {"members": "group-members", "roles": "group-roles", "subgroups": "group-subgroups"}


def _group_or_404(pk: int) -> Group:
    return get_object_or_404(selectors.group_list(), pk=pk)


def _detail_url(group: Group, *, section: str = "", query: str = "") -> str:
    url = reverse("groups:detail", args=[group.pk])
    if query:
        url += "?" + urlencode({"q": query})
    return f"{url}#{SECTIONS[section]}" if section else url


def _render_detail(
    request: HtmxHttpRequest, group: Group, *, fragment: str | None = None, **context
) -> HttpResponse:
    """The group's page, or one of its fragments alone (for htmx).

    ``context`` overrides the defaults, e.g. with a bound form that has errors.
    """
    context = {"group": group, **context}
    if fragment is None:
        context.setdefault("settings_form", GroupForm.for_group(group))
    if fragment in (None, "members", "user_results"):
        query = context.setdefault("q", "")
        context["matches"] = user_matches(query)
        context["assigned"] = set(group.members.values_list("pk", flat=True))
    if fragment in (None, "members"):
        context["members"] = group.members.order_by("email")
    if fragment in (None, "roles"):
        context.setdefault("role_form", RolePickForm(group))
        context["roles"] = group.roles.order_by("name")
    if fragment in (None, "subgroups"):
        context.setdefault("subgroup_form", SubgroupForm(group))
        context["subgroups"] = group.subgroups.order_by("name")
        context["parents"] = group.parent_groups.order_by("name")
    return render_page(request, "authz/groups/group_detail.html", context, fragment=fragment)


def _section_changed(
    request: HtmxHttpRequest, group: Group, section: str, notice: str, *, query: str = ""
) -> HttpResponse:
    """After a write that succeeded: the section's fragment for htmx, else back to the page."""
    return fragment_or_redirect(
        request,
        lambda: _render_detail(request, group, fragment=section, q=query, **{f"{section}_notice": notice}),
        notice=notice,
        to=_detail_url(group, section=section, query=query),
    )


def _section_invalid(request: HtmxHttpRequest, group: Group, section: str, **context) -> HttpResponse:
    """A form of ``section`` with errors: its fragment for htmx, else the page, shown inline."""
    return _render_detail(request, group, fragment=section if wants_fragment(request) else None, **context)


def _confirm(
    request: HtmxHttpRequest,
    group: Group,
    section: str,
    *,
    action: str,
    question: str,
    loss: str,
    button: str = "Remove",
) -> HttpResponse:
    """The confirm step of a removal from ``section``: what it takes away, then the button."""
    return confirm_removal(
        request,
        question=question,
        loss=loss,
        action=action,
        cancel=_detail_url(group, section=section),
        target=SECTIONS[section],
        button=button,
        q=search_query(request.GET),
    )


# The list's columns that sort, and the fields each orders by.
GROUP_LIST_SORTS = {"name": ("name",), "members": ("member_count", "name")}


def _group_listing(params: QueryDict) -> dict[str, Any]:
    """The page of groups the list's search, sort and page ask for."""
    wanted = list_query(params, columns=tuple(GROUP_LIST_SORTS), default_sort="name")
    groups = selectors.group_overview().filter(search_filter(wanted.search, ("name",)))
    listing = wanted.paginate(groups.order_by(*ordering(wanted.sort, GROUP_LIST_SORTS)))
    return {"listing": listing, "groups": listing.rows}


def _list_response(request: HtmxHttpRequest, form: GroupForm) -> HttpResponse:
    """The list with the create form, or the form alone (for htmx; the list is not queried)."""
    context = {"form": form, **({} if wants_fragment(request) else _group_listing(request.GET))}
    return render_page_or_fragment(request, "authz/groups/group_list.html", "create_form", context)


@require_GET
@staff_required
def group_list(request: HtmxHttpRequest) -> HttpResponse:
    if wants_fragment(request):  # the search box, a column header or the pager: the results
        return render_page(
            request, "authz/groups/group_list.html", _group_listing(request.GET), fragment="results"
        )
    return _list_response(request, GroupForm())


@require_POST
@staff_required
def group_create(request: HtmxHttpRequest) -> HttpResponse:
    form = GroupForm(request.POST)
    if form.is_valid():
        try:
            group = services.group_create(**form.cleaned_data, actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Group “{group.name}” created.")
            return navigate(request, reverse("groups:detail", args=[group.pk]))
    return _list_response(request, form)


@require_GET
@staff_required
def group_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(pk)
    # The search box asks for its results only.
    fragment = "user_results" if wants_fragment(request) and "q" in request.GET else None
    return _render_detail(request, group, fragment=fragment, q=search_query(request.GET))


@require_POST
@staff_required
def group_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(pk)
    form = GroupForm(request.POST)
    if form.is_valid():
        try:
            services.group_update(group=group, **form.cleaned_data, actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Group saved.")
            return redirect("groups:detail", pk=group.pk)
    # The failed update left its values on the instance: show the stored group.
    return _render_detail(request, _group_or_404(pk), settings_form=form)


@require_http_methods(["GET", "POST"])
@staff_required
def group_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(pk)
    if request.method == "POST":
        name = group.name
        services.group_delete(group=group, actor=request.user)
        messages.success(request, f"Group “{name}” deleted.")
        return redirect("groups:list")
    context = {
        "group": group,
        "member_count": group.members.count(),
        "loss": group_delete_loss(group),
        "roles": group.roles.order_by("name"),
        "subgroups": group.subgroups.order_by("name"),
    }
    return render(request, "authz/groups/group_delete.html", context)


@require_POST
@staff_required
def group_member_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(pk)
    form = UserPickForm(request.POST)
    if not form.is_valid():
        return _section_invalid(request, group, "members", q=search_query(request.POST), member_form=form)
    user = form.cleaned_data["user"]
    services.group_add_member(group=group, user=user, actor=request.user)
    notice = f"{user.email} added to “{group.name}”."
    return _section_changed(request, group, "members", notice, query=search_query(request.POST))


@require_http_methods(["GET", "POST"])
@staff_required
def group_member_remove(request: HtmxHttpRequest, pk: int, user_pk: int) -> HttpResponse:
    """GET: the confirm step, saying who loses what; POST: remove the member."""
    group = _group_or_404(pk)
    user = get_object_or_404(group.members.all(), pk=user_pk)
    if request.method == "GET":
        return _confirm(
            request,
            group,
            "members",
            action=reverse("groups:member_remove", args=[group.pk, user.pk]),
            question=f"Remove {user.email} from “{group.name}”?",
            loss=group_member_loss(group, user),
        )
    services.group_remove_member(group=group, user=user, actor=request.user)
    notice = f"{user.email} removed from “{group.name}”."
    return _section_changed(request, group, "members", notice, query=search_query(request.POST))


@require_POST
@staff_required
def group_role_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(pk)
    form = RolePickForm(group, request.POST)
    if not form.is_valid():
        return _section_invalid(request, group, "roles", role_form=form)
    role = form.cleaned_data["role"]
    services.group_add_role(group=group, role=role, actor=request.user)
    return _section_changed(request, group, "roles", f"Role “{role.name}” added: members now hold it.")


@require_http_methods(["GET", "POST"])
@staff_required
def group_role_remove(request: HtmxHttpRequest, pk: int, role_pk: int) -> HttpResponse:
    """GET: the confirm step, saying who loses what; POST: take the role from the group."""
    group = _group_or_404(pk)
    role = get_object_or_404(group.roles.all(), pk=role_pk)
    if request.method == "GET":
        return _confirm(
            request,
            group,
            "roles",
            action=reverse("groups:role_remove", args=[group.pk, role.pk]),
            question=f"Remove the role “{role.name}” from “{group.name}”?",
            loss=group_role_loss(group, role),
        )
    services.group_remove_role(group=group, role=role, actor=request.user)
    return _section_changed(request, group, "roles", f"Role “{role.name}” removed from “{group.name}”.")


@require_POST
@staff_required
def group_subgroup_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(pk)
    form = SubgroupForm(group, request.POST)
    if form.is_valid():
        child = form.cleaned_data["subgroup"]
        try:
            services.group_nest(parent=group, child=child, actor=request.user)
        except ValidationError as error:
            # The refusal (a cycle) is about the group picked: show it next to the select.
            form.add_error("subgroup", error)
        else:
            notice = f"“{child.name}” is now inside “{group.name}”: its members get this group's roles."
            return _section_changed(request, group, "subgroups", notice)
    return _section_invalid(request, group, "subgroups", subgroup_form=form)


@require_http_methods(["GET", "POST"])
@staff_required
def group_subgroup_remove(request: HtmxHttpRequest, pk: int, child_pk: int) -> HttpResponse:
    """GET: the confirm step, saying who loses what; POST: take the nested group out."""
    group = _group_or_404(pk)
    child = get_object_or_404(group.subgroups.all(), pk=child_pk)
    if request.method == "GET":
        return _confirm(
            request,
            group,
            "subgroups",
            action=reverse("groups:subgroup_remove", args=[group.pk, child.pk]),
            question=f"Take “{child.name}” out of “{group.name}”?",
            loss=group_unnest_loss(group, child),
            button="Take out",
        )
    services.group_unnest(parent=group, child=child, actor=request.user)
    return _section_changed(
        request, group, "subgroups", f"“{child.name}” is no longer inside “{group.name}”."
    )
