"""Benchmark only: the timesheet list of a person named in the query, without authentication.

``make bench`` compares ``GET /api/timesheets`` (bearer JWT) with this view to measure what
authentication costs: the same filters, selector, page code and renderer, the person taken
from ``?person=<email>`` instead of a token. It lets anyone read anyone's time, so
``config/urls.py`` mounts it only when ``BENCH_BASELINE_VIEWS`` is on (off by default,
never in production).
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.caching import TtlCache

from . import selectors
from .api import entry_page, list_filters
from .scopes import APPROVE

# Email to subject, so the person is then found as the API finds it (``person_by_sub``).
_subjects: TtlCache[str, str] = TtlCache("timesheets bench: subject by email", ttl=60, max_entries=100)


class TimesheetListBaseline(APIView):
    """``GET /api/timesheets`` as a person with only the read scope, minus the token."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    schema = None  # not an API operation: left out of the OpenAPI schema

    def get(self, request: Request) -> Response:
        params, worker_email, team = list_filters(request)
        if worker_email or team:
            raise exceptions.PermissionDenied(f"Filtering by worker needs the {APPROVE} scope.")
        email = request.query_params.get("person", "")
        sub = _subjects.get(email)
        if sub is None:
            person = selectors.person_by_email(email) if email else None
            if person is None:
                raise exceptions.NotFound("No such person.")
            sub = str(person.sub)
            _subjects.put(email, sub)
        user = selectors.person_by_sub(sub)
        if user is None:
            raise exceptions.AuthenticationFailed("The token's subject is not an active user.")
        return entry_page(request, self, selectors.entry_list(user=user, **params))
