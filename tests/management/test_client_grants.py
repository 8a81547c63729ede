"""/api/v2/client-grants: machine clients authorized to call APIs, through the dashboard's
services; narrowing or ending a grant ends the tokens minted under it."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from accounts.models import AuditEntry
from apis.system import MANAGEMENT_SCOPES
from clients.models import Client, ClientGrant
from clients.services import client_create, client_grant_set

from ..oauth import TIMESHEETS_API, client_credentials


@pytest.fixture
def batch(confidential_client) -> tuple[Client, str]:
    return confidential_client


def _errors(response) -> dict[str, str]:
    return {error["pointer"]: error["detail"] for error in response.json()["errors"]}


def _grant(client_id: str, *scopes: str, audience: str = TIMESHEETS_API) -> dict:
    return {"client_id": client_id, "audience": audience, "scope": list(scopes)}


def test_a_grant_lets_the_machine_get_a_token_with_its_scopes(admin_api, batch, timesheets_api):
    client, secret = batch
    assert (
        client_credentials(client.client_id, secret, audience=TIMESHEETS_API).status_code
        == HTTPStatus.FORBIDDEN
    )

    created = admin_api.post(
        "client-grants", _grant(client.client_id, "read:timesheets", "create:timesheets")
    )

    assert created.status_code == HTTPStatus.CREATED, created.content
    body = created.json()
    assert created["Location"] == f"/api/v2/client-grants/{body['id']}"
    assert body["client_id"] == client.client_id
    assert body["audience"] == TIMESHEETS_API
    assert body["scope"] == ["create:timesheets", "read:timesheets"]
    token = client_credentials(client.client_id, secret, audience=TIMESHEETS_API)
    assert token.status_code == HTTPStatus.OK
    assert set(token.json()["scope"].split()) == {"read:timesheets", "create:timesheets"}
    entry = AuditEntry.objects.get(action="client.grant", target_id=str(client.pk))
    assert entry.actor_label == f"client:{admin_api.client_id}"
    assert entry.after == {"api": TIMESHEETS_API, "scopes": ["create:timesheets", "read:timesheets"]}


def test_only_machine_clients_are_granted(admin_api, public_client, timesheets_api):
    response = admin_api.post("client-grants", _grant(public_client.client_id, "read:timesheets"))

    assert response.status_code == HTTPStatus.CONFLICT
    assert "Only machine-to-machine" in _errors(response)["#/client_id"]
    assert not ClientGrant.objects.filter(client=public_client).exists()


@pytest.mark.parametrize(
    ("body", "status", "pointer", "words"),
    [
        (_grant("test-batch", "read:timesheets", "fly:planes"), 404, "#/scope", "no scope fly:planes"),
        (_grant("nobody", "read:timesheets"), 404, "#/client_id", "No application"),
        (_grant("test-batch", audience="https://nowhere.example/"), 404, "#/audience", "No API"),
        ({**_grant("test-batch"), "scopes": []}, 400, "#/scopes", "not known"),
        ({"client_id": "test-batch", "audience": TIMESHEETS_API}, 400, "#/scope", "required"),
    ],
)
def test_bad_grants_are_refused_on_their_field(
    admin_api, batch, timesheets_api, body, status, pointer, words
):
    response = admin_api.post("client-grants", body)

    assert response.status_code == status, response.content
    assert words in _errors(response)[pointer]
    assert not ClientGrant.objects.filter(client=batch[0]).exists()


def test_a_second_grant_on_the_same_api_is_a_conflict(admin_api, batch, timesheets_api):
    first = admin_api.post("client-grants", _grant("test-batch", "read:timesheets")).json()

    again = admin_api.post("client-grants", _grant("test-batch", "read:timesheets", "delete:timesheets"))

    assert again.status_code == HTTPStatus.CONFLICT
    assert f"client-grants/{first['id']}" in again.json()["detail"]
    assert admin_api.get(f"client-grants/{first['id']}").json()["scope"] == ["read:timesheets"]


def test_the_list_filters_by_client_and_audience(admin_api, batch, timesheets_api, management_api):
    admin_api.post("client-grants", _grant("test-batch", "read:timesheets"))
    admin_api.post("client-grants", _grant("test-batch", "read:logs", audience=management_api.identifier))

    mine = admin_api.get("client-grants?client_id=test-batch").json()["results"]
    timesheets = admin_api.get(f"client-grants?audience={TIMESHEETS_API}").json()["results"]
    everyone = admin_api.get("client-grants").json()["results"]

    assert {grant["audience"] for grant in mine} == {TIMESHEETS_API, management_api.identifier}
    assert [(grant["client_id"], grant["scope"]) for grant in timesheets] == [
        ("test-batch", ["read:timesheets"])
    ]
    assert {grant["client_id"] for grant in everyone} == {"test-batch", admin_api.client_id}


def test_a_machine_granted_the_management_api_may_manage(admin_api, batch, management_api):
    client, secret = batch

    created = admin_api.post(
        "client-grants", _grant("test-batch", "read:clients", audience=management_api.identifier)
    )

    assert created.status_code == HTTPStatus.CREATED, created.content
    token = client_credentials(client.client_id, secret, audience=management_api.identifier).json()[
        "access_token"
    ]
    listed = admin_api.http.get("/api/v2/clients", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert listed.status_code == HTTPStatus.OK


def test_narrowing_a_grant_ends_the_tokens_of_the_wider_one(admin_api, machine_token):
    caller = machine_token("read:clients", "read:logs")
    assert caller.get("clients").status_code == HTTPStatus.OK
    grant = ClientGrant.objects.get(client__client_id=caller.client_id)
    etag = admin_api.get(f"client-grants/{grant.pk}")["ETag"]

    narrowed = admin_api.patch(f"client-grants/{grant.pk}", {"scope": ["read:logs"]}, **{"If-Match": etag})

    assert narrowed.status_code == HTTPStatus.OK, narrowed.content
    assert narrowed.json()["scope"] == ["read:logs"]
    assert caller.get("clients").status_code == HTTPStatus.UNAUTHORIZED
    stale = admin_api.patch(f"client-grants/{grant.pk}", {"scope": ["read:clients"]}, **{"If-Match": etag})
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    entry = AuditEntry.objects.filter(action="client.grant", target_id=str(grant.client_id)).latest("id")
    assert entry.before is not None and entry.before["scopes"] == ["read:clients", "read:logs"]
    assert entry.actor_label == f"client:{admin_api.client_id}"


def test_an_update_with_an_unknown_scope_changes_nothing(admin_api, machine_token):
    caller = machine_token("read:clients")
    grant = ClientGrant.objects.get(client__client_id=caller.client_id)

    response = admin_api.patch(f"client-grants/{grant.pk}", {"scope": ["read:clients", "rule:world"]})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "rule:world" in _errors(response)["#/scope"]
    assert caller.get("clients").status_code == HTTPStatus.OK


def test_deleting_a_grant_ends_its_tokens(admin_api, machine_token, management_api):
    caller = machine_token("read:clients")
    grant = ClientGrant.objects.get(client__client_id=caller.client_id)

    deleted = admin_api.delete(f"client-grants/{grant.pk}")

    assert deleted.status_code == HTTPStatus.NO_CONTENT
    assert caller.get("clients").status_code == HTTPStatus.UNAUTHORIZED
    assert admin_api.get(f"client-grants/{grant.pk}").status_code == HTTPStatus.NOT_FOUND
    assert AuditEntry.objects.get(action="client.ungrant").actor_label == f"client:{admin_api.client_id}"


def test_an_unknown_grant_is_404(admin_api):
    assert admin_api.get("client-grants/999999").status_code == HTTPStatus.NOT_FOUND
    assert admin_api.patch("client-grants/999999", {"scope": []}).status_code == HTTPStatus.NOT_FOUND
    assert admin_api.delete("client-grants/999999").status_code == HTTPStatus.NOT_FOUND


def test_the_same_idempotency_key_grants_once(admin_api, batch, timesheets_api):
    body = _grant("test-batch", "read:timesheets")
    first = admin_api.post("client-grants", body, **{"Idempotency-Key": "grant-1"})
    again = admin_api.post("client-grants", body, **{"Idempotency-Key": "grant-1"})

    assert first.status_code == again.status_code == HTTPStatus.CREATED
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert ClientGrant.objects.filter(client=batch[0]).count() == 1


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "client-grants", "read:client_grants"),
        ("POST", "client-grants", "create:client_grants"),
        ("GET", "client-grants/{pk}", "read:client_grants"),
        ("PATCH", "client-grants/{pk}", "update:client_grants"),
        ("DELETE", "client-grants/{pk}", "delete:client_grants"),
    ],
)
def test_each_operation_needs_its_scope(machine_token, timesheets_api, method, path, scope):
    client, _ = client_create(app_type=Client.AppType.M2M, name="Other", client_id="other")
    grant = client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    caller = machine_token(*(name for name in MANAGEMENT_SCOPES if name != scope))
    path = path.format(pk=grant.pk)

    if method in {"GET", "DELETE"}:
        response = getattr(caller, method.lower())(path)
    else:
        response = caller.send(method, path, {**_grant("other", "read:timesheets"), "scope": []})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "insufficient_scope"
    assert scope in response.json()["detail"]
    assert sorted(grant.scopes.values_list("value", flat=True)) == ["read:timesheets"]


def test_a_caller_cannot_narrow_or_end_its_own_management_grant(machine_token):
    caller = machine_token(
        "read:clients", "read:client_grants", "update:client_grants", "delete:client_grants"
    )
    grant = ClientGrant.objects.get(client__client_id=caller.client_id)

    narrowed = caller.patch(f"client-grants/{grant.pk}", {"scope": ["read:clients"]})
    ended = caller.delete(f"client-grants/{grant.pk}")

    assert narrowed.status_code == ended.status_code == HTTPStatus.CONFLICT
    assert narrowed.json()["code"] == "own_access"
    assert caller.get("clients").status_code == HTTPStatus.OK  # its token still works
    widened = caller.patch(f"client-grants/{grant.pk}", {"scope": [*_scopes(grant), "read:users"]})
    assert widened.status_code == HTTPStatus.OK


def test_another_administrators_application_may_end_a_grant(admin_api, machine_token):
    other = machine_token("read:clients")
    grant = ClientGrant.objects.get(client__client_id=other.client_id)

    assert admin_api.delete(f"client-grants/{grant.pk}").status_code == HTTPStatus.NO_CONTENT
    assert other.get("clients").status_code == HTTPStatus.UNAUTHORIZED


def _scopes(grant: ClientGrant) -> list[str]:
    return sorted(scope.value for scope in grant.scopes.all())
