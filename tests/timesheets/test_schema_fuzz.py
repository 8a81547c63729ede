"""The Timesheets API answers as its own OpenAPI schema says (schemathesis, in-process).

Schemathesis reads the schema the API serves at /api/schema, generates requests for each
Timesheets operation from it (valid ones and invalid ones) and sends them to the Django
WSGI application with real bearer tokens minted by our token code: a person's (a manager,
so an approver with reports) and a batch client's, each with all four timesheets scopes.
Every answer is checked: no server error; only the status codes, content types and bodies
the schema documents; and no schema-valid request refused with 400. What JSON Schema cannot
say is made true of the requests instead of excused from the checks: bulk rows name people
who exist and repeat no external id, and bulk uploads go as JSON (CSV's grammar is the bulk
tests' business). Schemathesis's negative_data_rejection is not among the checks: the API
is lenient where the schema is strict (a blank query parameter is no filter, a page_size
above 200 is 200), which no client is harmed by.

Schemathesis's pytest integration for fixture-built schemas (``from_fixture``) does not run
on pytest 9.2 (it sets ``Node._nodeid``, which pytest no longer has), so each operation's
hypothesis test is built here from the operation's own strategies.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client as HttpClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, client_credentials
from timesheets.models import Entry

from .conftest import ALL_SCOPES, Api, make_entry

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance,
]

# Examples per operation and principal: the whole file stays well under a minute.
EXAMPLES = 30
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], list[bytes]]
# Enough seeded entries that a generated `{id}` can be swapped for a real one.
SEEDED = 8


@pytest.fixture
def wsgi_app() -> WsgiApp:
    """The Django application as a server runs it, except that, as with Django's own test
    client, a request does not close the database connection (and with it the test's
    transaction, which holds the seeded data) when it starts and ends."""
    handler = WSGIHandler()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = handler(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()  # as a server does: this sends request_finished
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return app


@pytest.fixture
def seeded_ids(manager, worker, bob) -> list[int]:
    """The manager's own entries and their reports' (Alice's, Bob's), in every status."""
    entries = [
        make_entry(manager, day=0),
        make_entry(manager, status=Entry.Status.SUBMITTED, day=1),
        make_entry(worker, status=Entry.Status.SUBMITTED, day=0),
        make_entry(worker, day=1),
        make_entry(worker, status=Entry.Status.APPROVED, day=2),
        make_entry(bob, status=Entry.Status.SUBMITTED, day=0),
        make_entry(bob, status=Entry.Status.REJECTED, day=1, project="Hermes"),
        make_entry(manager, status=Entry.Status.REJECTED, day=3, project="Hermes"),
    ]
    return [entry.pk for entry in entries]


@pytest.fixture
def seeded_emails(manager, worker, bob) -> list[str]:
    return [manager.email, worker.email, bob.email]


@pytest.fixture(params=["person", "machine"])
def bearer(request, token_for, manager, confidential_client, timesheets_api) -> str:
    """An access token with all four timesheets scopes: the manager's (an approver with
    reports), or a batch client's (client credentials)."""
    if request.param == "person":
        return token_for(manager, ALL_SCOPES)
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=ALL_SCOPES.split())
    response = client_credentials(client.client_id, secret, audience=TIMESHEETS_API, scope=ALL_SCOPES)
    return response.json()["access_token"]


def timesheets_operations(app: WsgiApp) -> list[Any]:
    """The Timesheets operations of the schema the application serves."""
    schema = schemathesis.openapi.from_wsgi("/api/schema", app).include(path_regex=r"^/api/timesheets")
    operations = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):  # an operation schemathesis cannot read is a broken schema
            raise result.err()
        operations.append(result.ok())
    return operations


def fuzz(operation: Any, send: Callable[[Any, int], None]) -> None:
    """Hypothesis over one operation: valid and invalid requests, each sent with ``send``."""
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    # A CSV upload is a string to JSON Schema, which cannot say "a header row, then rows";
    # the bulk tests send CSV. Here bulk uploads are fuzzed as JSON.
    cases = cases.filter(lambda case: case.media_type != "text/csv")

    @given(case=cases, pick=st.integers(min_value=0, max_value=2 * SEEDED - 1))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def run(case: Any, pick: int) -> None:
        send(case, pick)

    run()


def bulk_rows_of_known_workers(body: Any, emails: list[str]) -> None:
    """Rows naming seeded workers, with external ids unique in the upload: what the schema
    cannot say (which people exist; that no external id repeats), made true of the rows."""
    rows = body.get("rows") if isinstance(body, dict) else None
    for index, row in enumerate(rows if isinstance(rows, list) else []):
        if isinstance(row, dict) and isinstance(row.get("worker"), str):
            row["worker"] = emails[index % len(emails)]
        if isinstance(row, dict) and isinstance(row.get("external_id"), str) and row["external_id"]:
            row["external_id"] = f"{row['external_id'][:90]}#{index}"


def test_every_timesheets_operation_answers_as_its_schema_says(wsgi_app, bearer, seeded_ids, seeded_emails):
    def send(case: Any, pick: int) -> None:
        # Half the time a path's `{id}` is one of the seeded entries, so that detail, submit,
        # approve and reject reach real entries in every status; otherwise as generated.
        if "id" in (case.path_parameters or {}) and pick < SEEDED:
            case.path_parameters["id"] = seeded_ids[pick]
        if case.operation.path == "/api/timesheets/bulk":
            bulk_rows_of_known_workers(case.body, seeded_emails)
        # Each example starts from the seeded data: what one request writes is rolled back.
        with transaction.atomic():
            case.call_and_validate(headers={"Authorization": f"Bearer {bearer}"}, checks=CHECKS)
            transaction.set_rollback(True)

    operations = timesheets_operations(wsgi_app)
    assert {operation.label for operation in operations} >= {
        "GET /api/timesheets",
        "POST /api/timesheets",
        "GET /api/timesheets/{id}",
        "PATCH /api/timesheets/{id}",
        "DELETE /api/timesheets/{id}",
        "POST /api/timesheets/{id}/submit",
        "POST /api/timesheets/{id}/approve",
        "POST /api/timesheets/{id}/reject",
        "POST /api/timesheets/bulk",
        "GET /api/timesheets/bulk/{id}",
    }
    failures = []
    for operation in operations:
        try:
            fuzz(operation, send)
        except (AssertionError, BaseExceptionGroup) as failure:  # every operation's are reported
            failures.append(f"{operation.label}:\n" + "\n".join(failure_lines(failure)))
    assert not failures, "\n\n".join(failures)


def failure_lines(failure: BaseException) -> list[str]:
    """Each distinct failure hypothesis found, with the answer and the request that show it."""
    if isinstance(failure, BaseExceptionGroup) and not isinstance(failure, FailureGroup):
        return [line for inner in failure.exceptions for line in failure_lines(inner)]
    inner = failure.exceptions if isinstance(failure, FailureGroup) else [failure]
    text = str(failure).splitlines()
    evidence = [
        line.strip()
        for index, line in enumerate(text)
        if line.strip().startswith("curl") or (index and text[index - 1].strip().startswith("["))
    ]
    return [f"  - {type(e).__name__}: {' '.join(str(e).split())[:240]}" for e in inner] + [
        f"    {line[:400]}" for line in evidence
    ]


def test_the_seed_covers_every_status(seeded_ids):
    statuses = set(Entry.objects.filter(pk__in=seeded_ids).values_list("status", flat=True))
    assert statuses == set(Entry.Status.values)


def test_paths_the_api_does_not_have_answer_its_json_404(timesheets_api, batch_token):
    for path in ["/api/timesheets/abc", "/api/timesheets/-1/submit", "/api/timesheets/bulk/x/y"]:
        for http in [HttpClient(), Api(batch_token).http]:
            response = http.post(path)
            assert response.status_code == HTTPStatus.NOT_FOUND
            assert response.json() == {"detail": "Not found."}


def test_the_api_still_asks_for_a_token_first(timesheets_api, seeded_ids):
    response = HttpClient().post(f"/api/timesheets/{seeded_ids[0]}/submit")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="abc-identity"'


def test_every_operation_documents_the_token_refusals_and_their_challenge(timesheets_api):
    schema = HttpClient().get("/api/schema", {"format": "json"}).json()
    operations = [
        operation
        for path, item in schema["paths"].items()
        if path.startswith("/api/timesheets")
        for operation in item.values()
    ]
    assert len(operations) == 10
    for operation in operations:
        for status in ["401", "403"]:
            refusal = operation["responses"][status]
            assert refusal["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorDetail"
            }
            assert "WWW-Authenticate" in refusal["headers"]
    hours = schema["components"]["schemas"]["EntryWriteRequest"]["properties"]["hours"]["oneOf"][0]
    assert hours == {"type": "number", "minimum": 0.25, "maximum": 24, "multipleOf": 0.25}
