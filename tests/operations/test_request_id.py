"""The request id: accepted from X-Request-ID when it is a plain token, made otherwise, sent
back, on every log line of the request, on its audit entries and in its Celery tasks."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

import pytest
from celery import Celery
from celery.app import app_or_default
from celery.contrib.testing.worker import start_worker
from celery.signals import task_prerun
from django.test import Client as HttpClient

from accounts import events
from accounts.audit import audit_record
from accounts.models import AuditEntry
from accounts.request_id import RequestIdFilter, current_request_id, request_id_begin, request_id_end
from accounts.request_log import JsonLineFormatter
from clients.services import client_grant_set
from tests.oauth import basic_auth

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"[0-9a-f]{32}")


class JsonLines(io.StringIO):
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.getvalue().splitlines()]

    def requests(self) -> list[dict[str, Any]]:
        return [record for record in self.records() if record["logger"] == "abc.requests"]


@pytest.fixture
def json_log() -> Iterator[JsonLines]:
    """Production's formatter and filter on a handler of the root logger, at INFO."""
    buffer = JsonLines()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonLineFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


# --- The header ------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["3f2c9a6e-7b1d-4c55-9e0a-2f8b1c7d6e5a", "lb-01:42", "A.b_c-D", "x" * 128])
def test_a_plain_request_id_is_sent_back_and_logged(json_log, sent):
    response = HttpClient().get("/login/", HTTP_X_REQUEST_ID=sent)
    assert response.status_code == HTTPStatus.OK
    assert response["X-Request-ID"] == sent
    [line] = json_log.requests()
    assert line["request_id"] == sent
    assert line["path"] == "/login/"


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param('abc\n{"level": "INFO", "message": "forged"}', id="newline"),
        pytest.param("abc\r\nSet-Cookie: sessionid=forged", id="header-injection"),
        pytest.param("x" * 500, id="overlong"),
        pytest.param("x" * 129, id="one-too-long"),
        pytest.param("", id="empty"),
        pytest.param("two words", id="space"),
        pytest.param("<script>", id="markup"),
        pytest.param("café", id="not-ascii"),
    ],
)
def test_anything_else_is_replaced_never_echoed(json_log, sent):
    response = HttpClient().get("/login/", HTTP_X_REQUEST_ID=sent)
    assert GENERATED.fullmatch(response["X-Request-ID"])
    [line] = json_log.requests()
    assert line["request_id"] == response["X-Request-ID"]
    if sent:
        assert sent not in json_log.getvalue()
    assert "forged" not in json_log.getvalue()


def test_a_request_without_one_gets_a_new_one_each_time(json_log):
    first, second = HttpClient().get("/login/"), HttpClient().get("/login/")
    assert GENERATED.fullmatch(first["X-Request-ID"])
    assert GENERATED.fullmatch(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert [line["request_id"] for line in json_log.requests()] == [
        first["X-Request-ID"],
        second["X-Request-ID"],
    ]


def test_every_line_of_a_request_carries_its_id_and_none_outside(json_log, user):
    response = HttpClient().post(
        "/login/", {"username": user.email, "password": "wrong"}, HTTP_X_REQUEST_ID="r-1"
    )
    assert response.status_code == HTTPStatus.OK
    logging.getLogger("tests.outside").warning("after the request")
    records = json_log.records()
    during = [record for record in records if record["logger"] != "tests.outside"]
    assert len(during) > 1  # the sign-in failure's own lines (django-axes), then the request's
    assert {record["request_id"] for record in during} == {"r-1"}
    assert records[-1] == records[-1] | {"logger": "tests.outside", "request_id": None}
    assert current_request_id() == ""


def test_an_unmatched_path_is_logged_as_such_never_verbatim(json_log):
    response = HttpClient().get("/no-such-page/alice@abcinc.example?code=secret-code")
    assert response.status_code == HTTPStatus.NOT_FOUND
    [line] = json_log.requests()
    assert line["path"] == "<unmatched>"
    assert "secret-code" not in json_log.getvalue()
    assert "alice@abcinc.example" not in json_log.getvalue()
    # Django's own warning, logged after the middleware has finished, names the request too.
    [django] = [record for record in json_log.records() if record["logger"] == "django.request"]
    assert django["message"] == "Not Found: <unmatched>"
    assert django["request_id"] == response["X-Request-ID"]


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/metrics"])
def test_health_checks_and_scrapes_write_no_info_line(json_log, path):
    HttpClient().get(path)
    assert json_log.requests() == []


# --- Audit entries ---------------------------------------------------------------------------


def test_an_audit_entry_keeps_the_id_of_the_request_that_wrote_it(staff_client):
    response = staff_client.post(
        "/dashboard/roles/new/", {"name": "Payroll clerk"}, HTTP_X_REQUEST_ID="req-audit-1"
    )
    assert response.status_code == HTTPStatus.FOUND
    entry = AuditEntry.objects.get(action="role.create")
    assert entry.request_id == "req-audit-1"
    page = staff_client.get(f"/dashboard/logs/{entry.pk}/")
    assert "<dt>Request id</dt><dd><code>req-audit-1</code></dd>" in page.content.decode()


def test_token_events_and_their_export_keep_the_request_id(confidential_client, timesheets_api, staff_client):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    body = {"grant_type": "client_credentials", "audience": timesheets_api.identifier}
    for request_id, password in (("tok-issued-1", secret), ("tok-refused-1", "wrong")):
        HttpClient().post(
            "/oauth/token",
            body,
            HTTP_AUTHORIZATION=basic_auth(client.client_id, password),
            HTTP_X_REQUEST_ID=request_id,
        )
    events.flush()  # the token endpoint's events are written in batches, with raw SQL
    written = AuditEntry.objects.filter(client_id=client.client_id, action__startswith="token.")
    assert sorted(written.values_list("request_id", flat=True)) == ["tok-issued-1", "tok-refused-1"]
    exported = b"".join(staff_client.get("/dashboard/logs/export.json").streaming_content).decode()
    assert '"request_id": "tok-issued-1"' in exported


def test_an_audit_entry_written_outside_a_request_has_none(staff_user):
    assert audit_record(actor=staff_user, action="test.outside").request_id == ""


# --- Celery ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the task runs when the view's transaction commits
def test_a_task_run_eagerly_during_a_request_sees_its_id(json_log, user):
    seen: list[str] = []

    def during_task(**_kwargs: Any) -> None:
        seen.append(current_request_id())

    task_prerun.connect(during_task, weak=False)
    try:
        response = HttpClient().post(
            "/password/forgot/", {"email": user.email}, HTTP_X_REQUEST_ID="req-task-1"
        )
    finally:
        task_prerun.disconnect(during_task)
    assert response.status_code == HTTPStatus.FOUND
    assert seen == ["req-task-1", "req-task-1"]  # the reset request, then its email
    [sent] = [record for record in json_log.records() if record["logger"] == "accounts.emails"]
    assert sent["request_id"] == "req-task-1"


@pytest.fixture
def worker_app() -> Iterator[tuple[Celery, Any]]:
    """A Celery app of its own with a worker thread on an in-memory broker: tasks go through
    a real message and a real worker, as in production."""
    app = Celery("request-id-test", broker="memory://", set_as_current=False)
    app.conf.task_default_queue = "request-id-test"
    app.conf.broker_transport_options = {"polling_interval": 0.05}

    @app.task(name="tests.request_id.log_it")
    def log_it() -> str:
        logging.getLogger("tests.task").warning("in the task")
        return current_request_id()

    default = app_or_default()
    try:
        with start_worker(app, perform_ping_check=False, shutdown_timeout=10):
            yield app, log_it
    finally:
        # The embedded worker makes its app everyone's: the project's tasks go back to theirs.
        default.set_current()
        default.set_default()


def test_a_task_sent_to_a_worker_carries_the_id_there_and_only_for_itself(worker_app, json_log):
    # The worker first (it sets Django up again, which configures logging anew), then the capture.
    _app, log_it = worker_app
    token = request_id_begin("req-worker-1")
    try:
        result = log_it.apply_async()
    finally:
        request_id_end(token)
    bare = log_it.apply_async()  # sent outside any request

    assert _wait(lambda: len(_task_lines(json_log)) == 2)
    assert [line["request_id"] for line in _task_lines(json_log)] == ["req-worker-1", None]
    assert result.id != bare.id


def _task_lines(json_log: JsonLines) -> list[dict[str, Any]]:
    return [record for record in json_log.records() if record["logger"] == "tests.task"]


def _wait(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
