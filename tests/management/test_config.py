"""Configuration as code through the Management API: export, preview, import."""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

from accounts.models import AuditEntry
from apis.models import Api
from apis.services import api_create
from authz.models import Role
from authz.services import role_create

PAYROLL: dict[str, Any] = {"identifier": "https://payroll.abcinc.example/", "name": "Payroll"}


def _export(caller) -> dict:
    response = caller.get("config")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def test_export_names_the_callers_grant_by_placeholder_and_holds_no_secret(admin_api):
    api_create(**PAYROLL, scopes={"read:payroll": "Read payroll"})

    config = _export(admin_api)

    assert config["version"] == 2
    assert [api["identifier"] for api in config["apis"]] == [PAYROLL["identifier"]]
    assert {"client_id": admin_api.client_id, "api": "@management"} | {} == {
        key: grant[key] for grant in config["client_grants"] for key in ("client_id", "api")
    }
    assert not {"client_secret", "hs256_secret", "secret"} & _keys(config)


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(_keys(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(item) for item in value))
    return set()


def test_preview_changes_nothing_and_lists_the_changes(admin_api):
    config = _export(admin_api)
    config["roles"].append({"name": "Auditor", "description": "Reads", "permissions": []})

    response = admin_api.post("config/preview", config)

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["summary"] == {"create": 1, "change": 0, "remove": 0}
    assert response.json()["changes"][0]["name"] == "Auditor"
    assert not Role.objects.exists()


def test_import_applies_all_and_is_audited_as_the_client(admin_api):
    config = _export(admin_api)
    config["apis"].append({**PAYROLL, "scopes": [{"value": "read:payroll", "description": "Read payroll"}]})
    config["roles"].append(
        {"name": "Payroll clerk", "description": "", "permissions": [[PAYROLL["identifier"], "read:payroll"]]}
    )
    plan = admin_api.post("config/preview", config)
    assert plan.status_code == HTTPStatus.OK, plan.content

    response = admin_api.put("config", config)

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["summary"]["create"] == 2
    assert Api.objects.filter(identifier=PAYROLL["identifier"]).exists()
    entry = AuditEntry.objects.filter(action="role.create").get()
    assert entry.actor_label == f"client:{admin_api.client_id}"
    again = admin_api.post("config/preview", _export(admin_api)).json()
    assert again == {"summary": {"create": 0, "change": 0, "remove": 0}, "changes": []}


def test_every_problem_is_reported_with_its_pointer_and_nothing_changes(admin_api):
    config = _export(admin_api)
    config["apis"].append({**PAYROLL, "scopes": []})
    config["roles"].append({"name": "Clerk", "description": "", "permissions": [["https://nowhere/", "x"]]})
    config["roles"].append({"name": "Other", "description": "", "permissions": [], "colour": "red"})

    response = admin_api.put("config", config)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert "#/roles/0/permissions/0" in pointers
    assert any(pointer.startswith("#/roles/1") for pointer in pointers)
    assert not Api.objects.filter(identifier=PAYROLL["identifier"]).exists()
    assert not Role.objects.exists()


def test_an_import_that_drops_the_callers_own_access_is_409(admin_api):
    role_create(actor=None, name="Kept", description="")
    config = _export(admin_api)
    without_me = copy.deepcopy(config)
    without_me["client_grants"] = [
        g for g in config["client_grants"] if g["client_id"] != admin_api.client_id
    ]
    without_me["roles"] = []
    without_me["role_assignments"] = {}

    response = admin_api.put("config", without_me)

    assert response.status_code == HTTPStatus.CONFLICT, response.json()
    assert admin_api.client_id in response.json()["detail"]
    assert Role.objects.filter(name="Kept").exists()


def test_a_stale_if_match_is_412(admin_api):
    read = admin_api.get("config")
    role_create(actor=None, name="Meanwhile", description="")
    config = read.json()

    response = admin_api.put("config", config, **{"If-Match": read["ETag"]})

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert Role.objects.filter(name="Meanwhile").exists()


def test_reading_needs_every_read_scope_and_writing_every_write_scope(machine_token):
    reader = machine_token("read:roles", "read:groups")

    response = reader.get("config")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "read:resource_servers" in response.json()["detail"]


def test_a_body_that_is_not_a_configuration_is_400(admin_api):
    bodies: list[Any] = [[], {"version": 2}, {"version": 9, "apis": []}]
    for body in bodies:
        response = admin_api.put("config", body)
        assert response.status_code == HTTPStatus.BAD_REQUEST, body
        assert response.json()["errors"]


def test_a_problem_under_a_role_name_points_at_it_escaped(admin_api):
    config = _export(admin_api)
    config["role_assignments"] = {"Ops/Payroll.team": ["nobody@abcinc.example"]}

    response = admin_api.put("config", config)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "#/role_assignments/Ops~1Payroll.team" in {error["pointer"] for error in response.json()["errors"]}
