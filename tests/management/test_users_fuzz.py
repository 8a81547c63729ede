"""The Management API's user operations answer as the served schema says (schemathesis,
in-process, with a real client-credentials token holding every users scope).

Half the time a generated ``user_id`` is swapped for a seeded person's (active, invited,
blocked, a tombstone, the only administrator), so that the operations reach real people
in every status; each example's writes are rolled back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client as HttpClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from accounts.services import user_deactivate, user_delete
from authz.services import group_add_member, group_add_role, group_create, role_assign, role_create

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# schemathesis' positive_data_acceptance, but knowing the rules a schema cannot state: a
# schema-valid request may be refused (400) only on these fields, and only for these reasons.
NOT_IN_A_SCHEMA = {
    "#/role_ids/*": "an id of a role that exists",
    "#/group_ids/*": "an id of a group that exists",
    "#/manager": "someone who exists, is not deleted, and is not in the person's own reporting line",
    "#/email": "Django's address rules, stricter than the email format",
    "#/picture": "Django's URL rules (a host name with a dot), stricter than the uri format",
    # Stated in words only by the shared CURSOR_PARAMETERS and IDEMPOTENCY_KEY of base.py:
    "#/page_size": "1 to 100",
    "#/Idempotency-Key": "up to 255 printable ASCII characters",
}
USERS_SCOPES = ("read:users", "create:users", "update:users", "delete:users")


@contextmanager
def connection_kept() -> Iterator[None]:
    """The Django application as a server runs it, minus closing the database connection at
    the end of each request (the test's transaction holds the seeded data). Entered after
    the last request through Django's test client, which connects the closing again."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def people(user, staff_user) -> list[str]:
    """People in every status, with roles and groups; their user_ids."""
    invited = User.objects.create_user(email="ivan@abcinc.example", password=None, manager=staff_user)
    blocked = User.objects.create_user(email="bob@abcinc.example", password="x")
    user_deactivate(actor=None, user=blocked)
    gone = User.objects.create_user(email="gone@abcinc.example", password="x")
    user_delete(actor=None, user=gone)
    role, group = role_create(actor=None, name="Approver"), group_create(actor=None, name="Leads")
    group_add_role(actor=None, group=group, role=role)
    role_assign(actor=None, role=role, user=user)
    group_add_member(actor=None, group=group, user=invited)
    return [str(person.sub) for person in (user, staff_user, invited, blocked, gone)]


@pytest.fixture
def unlimited(settings) -> None:
    """Every generated request is answered, not 429 half-way through."""
    settings.MANAGEMENT_API_RATE_LIMIT = 100_000


def _closed(raw: dict) -> dict:
    """The served schema with every request body closed (``additionalProperties: false``),
    which is what the API's strict serializers enforce (unknown fields are 400) but the
    served schema does not say yet: without this, schemathesis counts each generated extra
    property as a valid request refused."""
    for name, component in raw["components"]["schemas"].items():
        if name.endswith("Request") and component.get("type") == "object":
            component.setdefault("additionalProperties", False)
    return raw


@pytest.fixture
def users_schema(management_api):
    raw = HttpClient().get("/api/v2/schema", HTTP_ACCEPT="application/json").json()
    loaded = schemathesis.openapi.from_dict(_closed(raw))
    loaded.app = WSGIHandler()
    return loaded


# Each user operation by its operationId, so that each is a test of its own. (schemathesis'
# lazy pytest integration, from_fixture, fails under pytest 9: it sets Function._nodeid.)
OPERATIONS = [
    "users_list",
    "users_create",
    "users_get",
    "users_update",
    "users_delete",
    "users_block",
    "users_unblock",
    "users_roles_list",
    "users_roles_assign",
    "users_roles_remove",
    "users_groups_list",
    "users_groups_add",
    "users_groups_remove",
    "users_permissions_list",
    "users_sessions_list",
    "users_sessions_end",
    "users_refresh_tokens_list",
    "users_refresh_tokens_revoke",
]


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_each_users_operation_answers_as_the_schema_says(
    operation_id, users_schema, machine_token, people, unlimited
):
    caller = machine_token(*USERS_SCOPES)
    operation = users_schema.find_operation_by_id(operation_id)

    @given(case=operation.as_strategy(), pick=st.integers(min_value=0, max_value=9))
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def answers_as_documented(case, pick: int) -> None:
        if "user_id" in (case.path_parameters or {}) and pick < len(people):
            case.path_parameters["user_id"] = people[pick]
        # A cursor is one the API gave out, which a schema cannot say: a made-up one is 400.
        (case.query or {}).pop("cursor", None)
        with transaction.atomic():
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {caller.token}"}, checks=CHECKS
            )
            transaction.set_rollback(True)
        if response.status_code == HTTPStatus.BAD_REQUEST:
            pointers = {re.sub(r"/\d+$", "/*", error["pointer"]) for error in response.json()["errors"]}
            assert pointers <= set(NOT_IN_A_SCHEMA), (case.as_curl_command(), response.text)

    with connection_kept():
        answers_as_documented()


def test_every_users_operation_is_fuzzed(users_schema):
    served = {
        result.ok().definition.raw["operationId"]
        for result in users_schema.include(path_regex=r"^/api/v2/users").get_all_operations()
    }
    assert served == set(OPERATIONS)
