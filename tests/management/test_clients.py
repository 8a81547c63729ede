"""/api/v2/clients: applications registered, read, changed, rotated and deleted by a machine
client, with the dashboard's checks and effects."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from accounts.models import AuditEntry
from apis.system import MANAGEMENT_SCOPES
from clients.models import Client
from clients.services import client_grant_set

from ..oauth import MOBILE_CALLBACK, client_credentials

WEB_APP = {
    "name": "Expenses",
    "app_type": "regular_web",
    "redirect_uris": ["https://expenses.abcinc.example/callback"],
}


def _errors(response) -> dict[str, str]:
    return {error["pointer"]: error["detail"] for error in response.json()["errors"]}


def test_create_answers_the_secret_once_and_it_works(admin_api, timesheets_api):
    created = admin_api.post("clients", {"name": "Payroll sync", "app_type": "m2m"})

    assert created.status_code == HTTPStatus.CREATED, created.content
    body = created.json()
    assert created["Location"] == f"/api/v2/clients/{body['client_id']}"
    assert created["Cache-Control"] == "no-store"
    assert body["public"] is False
    assert body["grant_types"] == ["client_credentials"]
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    client_grant_set(
        client=Client.objects.get(client_id=body["client_id"]), api=timesheets_api, scopes=["read:timesheets"]
    )
    token = client_credentials(body["client_id"], body["client_secret"], audience=timesheets_api.identifier)
    assert token.status_code == HTTPStatus.OK
    read = admin_api.get(f"clients/{body['client_id']}")
    assert "client_secret" not in read.json()
    assert body["client_secret"] not in read.content.decode()
    assert read["ETag"]


def test_a_public_application_has_no_secret(admin_api):
    created = admin_api.post(
        "clients", {"name": "Timesheets Mobile", "app_type": "native", "redirect_uris": [MOBILE_CALLBACK]}
    )

    assert created.status_code == HTTPStatus.CREATED, created.content
    assert created.json()["client_secret"] is None
    assert created.json()["public"] is True
    assert created.json()["token_endpoint_auth_method"] == "none"


def test_the_audit_log_names_the_calling_client(admin_api):
    client_id = admin_api.post("clients", WEB_APP).json()["client_id"]

    entry = AuditEntry.objects.get(
        action="client.create", target_id=str(Client.objects.get(client_id=client_id).pk)
    )
    assert entry.actor_label == f"client:{admin_api.client_id}"
    assert entry.after is not None and entry.after["redirect_uris"] == WEB_APP["redirect_uris"][0]


@pytest.mark.parametrize(
    ("body", "pointer", "words"),
    [
        ({**WEB_APP, "redirect_uris": []}, "#/redirect_uris", "at least one callback"),
        ({**WEB_APP, "redirect_uris": ["http://expenses.abcinc.example/cb"]}, "#/redirect_uris", "https"),
        ({**WEB_APP, "redirect_uris": ["https://*.abcinc.example/cb"]}, "#/redirect_uris", "wildcards"),
        (
            {"name": "Job", "app_type": "m2m", "redirect_uris": ["https://a.example/cb"]},
            "#/redirect_uris",
            "no such",
        ),
        ({**WEB_APP, "allowed_origins": ["https://expenses.abcinc.example"]}, "#/allowed_origins", "no such"),
        (
            {**WEB_APP, "backchannel_logout_uri": "http://expenses.abcinc.example/bc"},
            "#/backchannel_logout_uri",
            "https",
        ),
        ({**WEB_APP, "name": ""}, "#/name", "blank"),
        ({**WEB_APP, "name": "\ufeff"}, "#/name", "visible character"),
        ({**WEB_APP, "redirect_uris": ["https://a.example/\x1c/cb"]}, "#/redirect_uris/0", "pattern"),
        ({**WEB_APP, "app_type": "desktop"}, "#/app_type", "not a valid choice"),
        ({**WEB_APP, "client_secret": "mine"}, "#/client_secret", "not known"),
        (
            {**WEB_APP, "refresh_token_absolute_lifetime": 3600, "refresh_token_idle_lifetime": 7200},
            "#/refresh_token_idle_lifetime",
            "cannot exceed",
        ),
    ],
)
def test_invalid_applications_are_refused_on_their_field(admin_api, body, pointer, words):
    response = admin_api.post("clients", body)

    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert words in _errors(response)[pointer]
    assert not Client.objects.filter(name=body["name"]).exists()


def test_the_list_filters_by_type_and_refuses_an_unknown_one(admin_api, public_client):
    admin_api.post("clients", WEB_APP)

    web = admin_api.get("clients?app_type=regular_web").json()
    native = admin_api.get("clients?app_type=native").json()
    bad = admin_api.get("clients?app_type=desktop")

    assert [client["name"] for client in web["results"]] == ["Expenses"]
    assert [client["client_id"] for client in native["results"]] == [public_client.client_id]
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert "#/app_type" in _errors(bad)


def test_an_unknown_client_is_404(admin_api):
    assert admin_api.get("clients/nobody").status_code == HTTPStatus.NOT_FOUND
    assert admin_api.get("clients/nobody%00").status_code == HTTPStatus.NOT_FOUND
    assert admin_api.patch("clients/nobody", {"name": "x"}).status_code == HTTPStatus.NOT_FOUND
    assert admin_api.delete("clients/nobody").status_code == HTTPStatus.NOT_FOUND
    assert admin_api.post("clients/nobody/rotate-secret").status_code == HTTPStatus.NOT_FOUND


def test_update_changes_settings_under_if_match(admin_api):
    client_id = admin_api.post("clients", WEB_APP).json()["client_id"]
    stale = admin_api.get(f"clients/{client_id}")["ETag"]
    callbacks = ["https://expenses.abcinc.example/callback", "https://expenses.abcinc.example/cb2"]

    changed = admin_api.patch(
        f"clients/{client_id}", {"redirect_uris": callbacks, "first_party": True}, **{"If-Match": stale}
    )
    refused = admin_api.patch(f"clients/{client_id}", {"name": "Stale"}, **{"If-Match": stale})

    assert changed.status_code == HTTPStatus.OK, changed.content
    assert changed.json()["redirect_uris"] == callbacks
    assert changed.json()["first_party"] is True
    assert changed["ETag"] != stale
    assert refused.status_code == HTTPStatus.PRECONDITION_FAILED
    client = Client.objects.get(client_id=client_id)
    assert client.name == "Expenses"
    assert client.redirect_uris.split() == callbacks
    entry = AuditEntry.objects.get(action="client.update")
    assert entry.actor_label == f"client:{admin_api.client_id}"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"app_type": "m2m"}, "#/app_type"),
        ({"client_id": "other"}, "#/client_id"),
        ({"allowed_origins": ["https://expenses.abcinc.example"]}, "#/allowed_origins"),
        ({"token_endpoint_auth_method": "none"}, "#/token_endpoint_auth_method"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "#/redirect_uris"),
        ({"refresh_token_idle_lifetime": 365 * 24 * 3600}, "#/refresh_token_idle_lifetime"),
    ],
)
def test_an_invalid_update_changes_nothing(admin_api, body, pointer):
    client_id = admin_api.post("clients", WEB_APP).json()["client_id"]
    before = admin_api.get(f"clients/{client_id}").json()

    response = admin_api.patch(f"clients/{client_id}", body)

    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert pointer in _errors(response)
    assert admin_api.get(f"clients/{client_id}").json() == before


def test_a_spa_may_list_origins_and_a_machine_may_not_have_callbacks(admin_api):
    spa = admin_api.post(
        "clients",
        {
            "name": "Dashboard SPA",
            "app_type": "spa",
            "redirect_uris": ["https://app.abcinc.example/callback"],
            "allowed_origins": ["https://app.abcinc.example"],
        },
    )
    machine = admin_api.post("clients", {"name": "Job", "app_type": "m2m"}).json()["client_id"]

    assert spa.status_code == HTTPStatus.CREATED, spa.content
    assert spa.json()["allowed_origins"] == ["https://app.abcinc.example"]
    refused = admin_api.patch(f"clients/{machine}", {"post_logout_redirect_uris": ["https://a.example/"]})
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert (
        "Machine to Machine application has no such setting"
        in _errors(refused)["#/post_logout_redirect_uris"]
    )


def test_rotating_the_secret_ends_the_old_one(admin_api, confidential_client, timesheets_api):
    client, old = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])

    rotated = admin_api.post(f"clients/{client.client_id}/rotate-secret")

    assert rotated.status_code == HTTPStatus.OK, rotated.content
    assert rotated["Cache-Control"] == "no-store"
    new = rotated.json()["client_secret"]
    assert new and new != old
    audience = timesheets_api.identifier
    assert client_credentials(client.client_id, old, audience=audience).status_code == HTTPStatus.UNAUTHORIZED
    assert client_credentials(client.client_id, new, audience=audience).status_code == HTTPStatus.OK
    assert (
        AuditEntry.objects.get(action="client.secret_rotate").actor_label == f"client:{admin_api.client_id}"
    )


def test_a_public_application_has_no_secret_to_rotate(admin_api, public_client):
    response = admin_api.post(f"clients/{public_client.client_id}/rotate-secret")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "no secret" in response.json()["detail"]
    assert not AuditEntry.objects.filter(action="client.secret_rotate").exists()


def test_deleting_a_client_ends_its_tokens(admin_api, machine_token):
    doomed = machine_token("read:clients")
    assert doomed.get("clients").status_code == HTTPStatus.OK

    deleted = admin_api.delete(f"clients/{doomed.client_id}")

    assert deleted.status_code == HTTPStatus.NO_CONTENT
    assert doomed.get("clients").status_code == HTTPStatus.UNAUTHORIZED
    assert admin_api.get(f"clients/{doomed.client_id}").status_code == HTTPStatus.NOT_FOUND
    entry = AuditEntry.objects.get(action="client.delete")
    assert entry.actor_label == f"client:{admin_api.client_id}"


def test_the_same_idempotency_key_creates_once_and_never_replays_the_secret(admin_api):
    first = admin_api.post("clients", WEB_APP, **{"Idempotency-Key": "expenses-1"})
    again = admin_api.post("clients", WEB_APP, **{"Idempotency-Key": "expenses-1"})

    assert first.status_code == again.status_code == HTTPStatus.CREATED
    assert first.json()["client_secret"]
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == {**first.json(), "client_secret": None}
    assert again["Location"] == first["Location"]
    assert Client.objects.filter(name="Expenses").count() == 1


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "clients", "read:clients"),
        ("POST", "clients", "create:clients"),
        ("GET", "clients/test-mobile", "read:clients"),
        ("PATCH", "clients/test-mobile", "update:clients"),
        ("DELETE", "clients/test-mobile", "delete:clients"),
        ("POST", "clients/test-mobile/rotate-secret", "update:clients"),
    ],
)
def test_each_operation_needs_its_scope(machine_token, public_client, method, path, scope):
    caller = machine_token(*(name for name in MANAGEMENT_SCOPES if name != scope))

    if method in {"GET", "DELETE"}:
        response = getattr(caller, method.lower())(path)
    else:
        response = caller.send(method, path, WEB_APP if method == "POST" else {"name": "x"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "insufficient_scope"
    assert scope in response.json()["detail"]
    assert Client.objects.filter(client_id="test-mobile", name="Timesheets Mobile (test)").exists()


def test_an_application_cannot_delete_itself(admin_api):
    response = admin_api.delete(f"clients/{admin_api.client_id}")

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "own_access"
    assert Client.objects.filter(client_id=admin_api.client_id).exists()
