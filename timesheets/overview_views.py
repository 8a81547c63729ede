"""The dashboard's overview: tokens issued, sign-ins, security events and the approvals
backlog for the last 24 hours, 7 or 30 days, each chart linked to the log filtered to it.

It counts from ``authz`` and ``timesheets``, so it lives here, in the highest app it needs;
``accounts``' dashboard home links to it by URL name.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from accounts.dashboard import HtmxHttpRequest
from accounts.decorators import staff_required

from . import overview_selectors as selectors
from .overview_charts import Series, column_chart, number, row_chart

LOGS_PATH = "/dashboard/logs/"  # the logs page (issue 17's contract: its path and filters)
ISSUED = "token.issue."  # the log's event type for an access token issued (token.issue.<grant type>)
GRANT_TYPE_NAMES = {
    "authorization_code": "authorization code",
    "refresh_token": "refresh token",
    "client_credentials": "client credentials",
}


def log_url(window: selectors.Window, **filters: str) -> str:
    """The log filtered to ``filters`` over ``window``."""
    if window.hourly:
        start, end = window.start.isoformat(), window.end.isoformat()
    else:
        start, end = window.start.date().isoformat(), window.end.date().isoformat()
    return f"{LOGS_PATH}?{urlencode({**filters, 'from': start, 'to': end})}"


def _named(rows: list[tuple[str, float, str]]) -> list[tuple[str, float]]:
    """A chart's rows without their links: a link inside a chart drawn as one image would be
    a control no screen reader can reach, so the links are in the table beside it."""
    return [(name, value) for name, value, _ in rows]


def _tokens_panel(window: selectors.Window) -> dict:
    tokens = selectors.tokens(window)
    labels = [f"{day:%d %b}" for day in tokens.days]
    series = [
        Series(GRANT_TYPE_NAMES.get(grant_type, grant_type), [float(count) for count in counts])
        for grant_type, counts in tokens.by_grant_type.items()
    ]
    api_rows = [
        (audience or "/userinfo only", float(count), log_url(window, type=ISSUED, api=audience))
        for audience, count in tokens.by_api
    ]
    client_rows = [
        (client_id, float(count), log_url(window, type=ISSUED, client=client_id))
        for client_id, count in tokens.by_client
    ]
    return {
        "total": tokens.total,
        "chart": column_chart(labels=labels, series=series, stacked=True),
        "series": [
            (one.name, log_url(window, type=f"{ISSUED}{grant_type}"))
            for one, grant_type in zip(series, tokens.by_grant_type, strict=True)
        ],
        "table": [
            (label, [int(one.values[index]) for one in series], sum(int(one.values[index]) for one in series))
            for index, label in enumerate(labels)
        ],
        "by_api": row_chart(rows=_named(api_rows)) if api_rows else None,
        "api_rows": api_rows,
        "by_client": row_chart(rows=_named(client_rows)) if client_rows else None,
        "client_rows": client_rows,
        "log": log_url(window, type=ISSUED),
    }


def _sign_ins_panel(window: selectors.Window) -> dict:
    counts = selectors.sign_ins(window)
    labels = [window.bucket_label(bucket) for bucket in window.buckets]
    series = [
        Series("sign-ins", [float(value) for value in counts.signed_in]),
        Series("failed sign-ins", [float(value) for value in counts.failed]),
    ]
    return {
        "signed_in": sum(counts.signed_in),
        "failed": sum(counts.failed),
        "lockouts": sum(counts.lockouts),
        "chart": column_chart(
            labels=labels,
            series=series,
            stacked=False,
            markers=counts.lockouts,
            marker_names=("lockout", "lockouts"),
        ),
        "table": list(zip(labels, counts.signed_in, counts.failed, counts.lockouts, strict=True)),
        "log": log_url(window, type=selectors.SIGN_IN),
        "lockout_log": log_url(window, type=selectors.LOCKOUT),
    }


def _security_panel(window: selectors.Window) -> dict:
    counts = selectors.security_events(window)
    rows = [
        (selectors.SECURITY_EVENTS[action], float(count), log_url(window, type=action))
        for action, count in counts.items()
    ]
    return {
        "total": sum(counts.values()),
        "chart": row_chart(rows=_named(rows)),
        "rows": rows,
        "log": log_url(window, type="security."),
    }


def _backlog_panel() -> dict:
    backlog = selectors.approvals_backlog()
    rows = [
        (f"week of {week:%d %b %Y}" if week else "earlier weeks", float(hours), "")
        for week, hours in backlog.weeks
    ]
    return {
        "backlog": backlog,
        "hours": number(float(backlog.hours)),
        "chart": row_chart(rows=_named(rows)) if rows else None,
        "table": [(name, number(hours)) for name, hours, _ in rows],
        "oldest_days": (timezone.now().date() - backlog.oldest.date).days if backlog.oldest else None,
        "link": reverse("timesheets:approvals"),
    }


@require_GET
@staff_required
def overview(request: HtmxHttpRequest) -> HttpResponse:
    # An unknown range is not an error worth a page of its own: the default is shown.
    key = request.GET.get("range", "")
    key = key if key in selectors.RANGES else selectors.DEFAULT_RANGE
    now: datetime = timezone.now()
    window = selectors.window_for(key, now=now)
    context = {
        "window": window,
        "ranges": [
            (name, label, f"?{urlencode({'range': name})}") for name, label in selectors.RANGES.items()
        ],
        "now": now,
        "tokens": _tokens_panel(window),
        "sign_ins": _sign_ins_panel(window),
        "security": _security_panel(window),
        "backlog": _backlog_panel(),
    }
    return render(request, "timesheets/overview.html", context)
