"""Site-wide views: where ``/`` leads, and error responses (JSON for protocol clients,
pages for people)."""

from __future__ import annotations

import logging
import sys

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# Clients of these paths read JSON (RFC 6749 §5.2 style), never an HTML page.
PROTOCOL_PREFIXES = ("/oauth/", "/authorize", "/userinfo", "/.well-known/", "/api/")


@require_GET
def root(request: HttpRequest) -> HttpResponseRedirect:
    """``/``: the dashboard for administrators, My week for everyone else (who signs in
    first when they have not)."""
    if request.user.is_authenticated and request.user.is_staff:
        return redirect("accounts:dashboard")
    return redirect("timesheets:week")


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an unavailable database is a 503 to retry, anything else a plain 500.

    No stack trace or detail ever reaches the client; the log has it.
    """
    error = sys.exc_info()[1]
    unavailable = isinstance(error, DatabaseError)
    status = 503 if unavailable else 500
    if request.path.startswith(PROTOCOL_PREFIXES):
        response: HttpResponse = JsonResponse(
            {
                "error": "temporarily_unavailable" if unavailable else "server_error",
                "error_description": "The service is unavailable, try again shortly."
                if unavailable
                else "An unexpected error occurred.",
            },
            status=status,
        )
        response["Cache-Control"] = "no-store"
    else:
        response = render(request, "500.html", {"unavailable": unavailable}, status=status)
    if unavailable:
        response["Retry-After"] = "5"
    return response
