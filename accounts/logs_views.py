"""The logs pages: the filtered list (paged by key), one entry whole, and the exports of a
filtered range as CSV or JSON. Staff only; auditors read them as administrators do."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import cast

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .dashboard import HtmxHttpRequest, render_page_or_fragment, wants_fragment
from .decorators import staff_required
from .logs import (
    KNOWN_TYPES,
    LogFilterForm,
    entry_as_dict,
    entry_summary,
    export_csv,
    export_json,
    log_entries,
)
from .logs_order import OLDEST_FIRST, log_list_params, log_page_sorted, log_search
from .models import AuditEntry

EXPORTS = {
    "csv": ("text/csv; charset=utf-8", export_csv),
    "json": ("application/json", export_json),
}


@require_GET
@staff_required
def log_list(request: HtmxHttpRequest) -> HttpResponse:
    form = LogFilterForm(request.GET)
    search, sort = log_list_params(request.GET)
    page = rows = None
    if form.is_valid():
        page = log_page_sorted(
            log_search(log_entries(form.cleaned_data), search),
            sort=sort,
            before=request.GET.get("before", ""),
            after=request.GET.get("after", ""),
        )
        rows = [(entry, entry_summary(entry)) for entry in page.entries]
    # The filters stay on the page while the results swap: their errors travel out of band.
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "search": search,
        "oldest_first": sort == OLDEST_FIRST,
        "known_types": KNOWN_TYPES,
        "oob_errors": wants_fragment(request),
        "timezone": timezone.get_current_timezone_name(),
    }
    # 200 with the errors either way: htmx swaps only successful responses.
    return render_page_or_fragment(request, "accounts/logs_list.html", "results", context)


@require_GET
@staff_required
def log_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(AuditEntry, pk=pk)
    whole = json.dumps(entry_as_dict(entry), indent=2, ensure_ascii=False)
    return render(request, "accounts/logs_detail.html", {"entry": entry, "whole": whole})


@require_GET
@staff_required
def log_export(request: HtmxHttpRequest, fmt: str) -> HttpResponse:
    """The entries the filters and the search select, newest first, as a download produced
    as it is read."""
    form = LogFilterForm(request.GET)
    search, _sort = log_list_params(request.GET)
    if fmt not in EXPORTS:
        return JsonResponse({"error": "Export as csv or json."}, status=HTTPStatus.NOT_FOUND)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=HTTPStatus.BAD_REQUEST)
    content_type, produce = EXPORTS[fmt]
    entries = log_search(log_entries(form.cleaned_data), search)
    response = StreamingHttpResponse(produce(entries), content_type=content_type)
    name = f"logs-{timezone.now():%Y%m%dT%H%M%SZ}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    # The access decorators are typed for HttpResponse; a streamed one passes through them alike.
    return cast(HttpResponse, response)
