"""The Management API's conventions, seen through its resource servers: who may call it,
problem details, ETag / If-Match, Idempotency-Key, rate limits, unknown fields, the system API."""

from __future__ import annotations

import time
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS

from accounts.models import AuditEntry
from apis.models import Api, IdempotentRequest
from apis.system import MANAGEMENT_API_NAME, MANAGEMENT_SCOPES
from apis.tokens import ApiSigning, mint_access_token
from authz.oauth.tasks import clear_expired_tokens
from clients.services import client_grant_set

from ..oauth import client_credentials

PROBLEM = "application/problem+json"
NEW_API = {
    "name": "Payroll API",
    "identifier": "https://payroll.abcinc.example/",
    "scopes": [{"value": "read:payroll", "description": "Read payroll"}],
}


def test_the_management_api_is_registered_by_the_migration(management_api):
    assert management_api.name == MANAGEMENT_API_NAME
    assert management_api.identifier == "http://testserver/api/v2/"
    assert management_api.signing_algorithm == "RS256"
    assert set(management_api.scopes.values_list("value", flat=True)) == set(MANAGEMENT_SCOPES)


def test_a_call_without_a_token_is_401_with_a_bearer_challenge(db):
    response = HttpClient().get("/api/v2/resource-servers")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith('Bearer realm="abc-identity"')
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == HTTPStatus.UNAUTHORIZED


def test_a_token_for_another_api_is_refused(admin_api, timesheets_api, confidential_client):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    other = client_credentials(client.client_id, secret, audience=timesheets_api.identifier).json()[
        "access_token"
    ]
    admin_api.token = other

    response = admin_api.get("resource-servers")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response.json()["code"] == "invalid_token"


def test_a_missing_scope_is_403_naming_it(machine_token):
    reader = machine_token("read:users")

    response = reader.get("resource-servers")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["Content-Type"] == PROBLEM
    assert 'error="insufficient_scope", scope="read:resource_servers"' in response["WWW-Authenticate"]
    assert response.json()["code"] == "insufficient_scope"
    assert "read:resource_servers" in response.json()["detail"]


def test_a_persons_token_is_refused(user, management_api, public_client):
    now = int(time.time())
    token = mint_access_token(
        {
            "iss": "http://testserver",
            "sub": str(user.sub),
            "aud": management_api.identifier,
            "iat": now,
            "exp": now + 600,
            "client_id": public_client.client_id,
            "scope": " ".join(MANAGEMENT_SCOPES),
            "jti": "person-token",
        },
        signing=ApiSigning.of(management_api),
    )
    response = (
        __import__("django.test")
        .test.Client()
        .get("/api/v2/resource-servers", HTTP_AUTHORIZATION=f"Bearer {token}")
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "machine-to-machine" in response.json()["detail"]


def test_create_lists_and_reads_with_an_etag(admin_api):
    created = admin_api.post("resource-servers", NEW_API)

    assert created.status_code == HTTPStatus.CREATED, created.content
    body = created.json()
    assert body["identifier"] == NEW_API["identifier"]
    assert body["scopes"] == NEW_API["scopes"]
    read = admin_api.get(f"resource-servers/{body['id']}")
    assert read["ETag"] == created["ETag"]
    listed = admin_api.get("resource-servers").json()
    assert set(listed) == {"next", "previous", "results"}
    assert NEW_API["identifier"] in [api["identifier"] for api in listed["results"]]


def test_the_audit_log_names_the_client_as_actor(admin_api):
    admin_api.post("resource-servers", NEW_API)

    entry = AuditEntry.objects.filter(action="api.create").get()
    assert entry.actor is None
    assert entry.actor_label == f"client:{admin_api.client_id}"


def test_unknown_fields_are_refused_with_their_pointer(admin_api):
    response = admin_api.post("resource-servers", {**NEW_API, "signing_alg": "RS256"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == PROBLEM
    assert {"pointer": "#/signing_alg", "detail": "This field is not known."} in response.json()["errors"]
    assert not Api.objects.filter(identifier=NEW_API["identifier"]).exists()


def test_a_duplicate_identifier_is_a_conflict(admin_api):
    admin_api.post("resource-servers", NEW_API)

    response = admin_api.post("resource-servers", NEW_API)

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["pointer"] == "#/identifier"


def test_a_stale_if_match_is_412_and_changes_nothing(admin_api):
    api = admin_api.post("resource-servers", NEW_API).json()
    stale = admin_api.get(f"resource-servers/{api['id']}")["ETag"]
    fresh = admin_api.patch(f"resource-servers/{api['id']}", {"token_lifetime": 600}, **{"If-Match": stale})
    assert fresh.status_code == HTTPStatus.OK

    refused = admin_api.patch(f"resource-servers/{api['id']}", {"token_lifetime": 900}, **{"If-Match": stale})

    assert refused.status_code == HTTPStatus.PRECONDITION_FAILED
    assert refused.json()["code"] == "precondition_failed"
    assert Api.objects.get(pk=api["id"]).token_lifetime == 600
    current = admin_api.patch(
        f"resource-servers/{api['id']}", {"token_lifetime": 900}, **{"If-Match": fresh["ETag"]}
    )
    assert current.status_code == HTTPStatus.OK


def test_the_same_idempotency_key_and_body_replay_the_first_answer(admin_api):
    first = admin_api.post("resource-servers", NEW_API, **{"Idempotency-Key": "create-payroll-1"})
    again = admin_api.post("resource-servers", NEW_API, **{"Idempotency-Key": "create-payroll-1"})

    assert first.status_code == again.status_code == HTTPStatus.CREATED
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Api.objects.filter(identifier=NEW_API["identifier"]).count() == 1


def test_an_idempotency_key_reused_with_another_body_is_422(admin_api):
    admin_api.post("resource-servers", NEW_API, **{"Idempotency-Key": "k1"})

    response = admin_api.post("resource-servers", {**NEW_API, "name": "Other"}, **{"Idempotency-Key": "k1"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["code"] == "idempotency_key_reused"


def test_a_failed_create_keeps_no_idempotency_key(admin_api):
    bad = admin_api.post(
        "resource-servers", {**NEW_API, "identifier": "not a uri"}, **{"Idempotency-Key": "k2"}
    )
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert not IdempotentRequest.objects.exists()

    fixed = admin_api.post("resource-servers", NEW_API, **{"Idempotency-Key": "k2"})
    assert fixed.status_code == HTTPStatus.CREATED


def test_idempotency_keys_belong_to_their_client(machine_token):
    first, second = machine_token(), machine_token()
    first.post("resource-servers", NEW_API, **{"Idempotency-Key": "same"})

    response = second.post("resource-servers", NEW_API, **{"Idempotency-Key": "same"})

    assert response.status_code == HTTPStatus.CONFLICT  # a second create, not the first's answer


@override_settings(MANAGEMENT_API_RATE_LIMIT=3)
def test_the_rate_limit_is_per_client_with_headers(machine_token, steady_rate_window):
    busy, other = machine_token(), machine_token()
    answers = [busy.get("resource-servers") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[0]["RateLimit-Policy"] == '"per-client";q=3;w=60'
    assert answers[1]["RateLimit"].startswith('"per-client";r=1;t=')
    assert int(answers[3]["Retry-After"]) > 0
    assert answers[3].json()["code"] == "throttled"
    assert other.get("resource-servers").status_code == HTTPStatus.OK


def test_the_system_api_cannot_be_deleted_or_renamed(admin_api, management_api):
    deleted = admin_api.delete(f"resource-servers/{management_api.pk}")
    renamed = admin_api.patch(f"resource-servers/{management_api.pk}", {"name": "Mine"})
    scoped = admin_api.post(
        f"resource-servers/{management_api.pk}/scopes", {"value": "x:y", "description": "x"}
    )

    assert deleted.status_code == renamed.status_code == scoped.status_code == HTTPStatus.CONFLICT
    assert "cannot be deleted" in deleted.json()["detail"]
    management_api.refresh_from_db()
    assert management_api.name == MANAGEMENT_API_NAME


def test_a_cursor_we_did_not_give_out_names_no_page(admin_api):
    response = admin_api.get("resource-servers?cursor=nonsense")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == PROBLEM
    assert "cursor" in response.json()["detail"]


@pytest.mark.parametrize("path", ["nowhere", "roles/99999999999999999999999", "resource-servers/-1"])
def test_unknown_paths_and_ids_beyond_any_row_are_problem_404s(admin_api, path):
    response = admin_api.get(path)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("body", ["[1, 2", '"a string"', "[]"])
def test_bodies_that_are_not_an_object_are_400(admin_api, body):
    response = admin_api.http.post(
        "/api/v2/resource-servers",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {admin_api.token}",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == PROBLEM


def test_the_schema_declares_each_operations_scope(db, management_api):
    schema = HttpClient().get("/api/v2/schema", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v2/resource-servers"]["post"]
    assert operation["security"] == [{"oauth2": ["create:resource_servers"]}]
    assert "/api/timesheets" not in schema["paths"]
    flows = schema["components"]["securitySchemes"]["oauth2"]["flows"]
    assert list(flows) == ["clientCredentials"]


def test_idempotency_keys_are_forgotten_after_a_day(admin_api):
    admin_api.post("resource-servers", NEW_API, **{"Idempotency-Key": "old"})
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))

    clear_expired_tokens.delay()

    assert not IdempotentRequest.objects.exists()
    # A day later the key is free again: the same request is a new create (here, a duplicate).
    again = admin_api.post("resource-servers", NEW_API, **{"Idempotency-Key": "old"})
    assert again.status_code == HTTPStatus.CONFLICT


def test_both_schemas_generate_without_warnings(db, management_api, capsys):
    # Two components with one name, a view drf-spectacular cannot read: each is a warning
    # on stderr, and each means a schema that misleads a generated client.
    for path in ("/api/v2/schema", "/api/schema"):
        GENERATOR_STATS.reset()
        response = HttpClient().get(path, HTTP_ACCEPT="application/json")
        assert response.status_code == HTTPStatus.OK
        assert not GENERATOR_STATS, capsys.readouterr().err
