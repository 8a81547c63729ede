"""Configuration as code: APIs, applications and client grants in the export/import file.

A round trip through an empty database, every kind of problem with its path in the file,
secrets never exported nor imported, the system API kept out of reach, all-or-nothing.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEntry
from apis.models import Api, Revocation
from apis.services import api_delete
from authz.models import Group, Role, RuleSetting
from authz.services import group_delete, role_delete
from authz.transfer import (
    Change,
    ConfigInvalid,
    apply_import,
    export_config,
    load_config,
    plan_import,
)
from clients.models import Client
from clients.services import (
    client_create,
    client_delete,
    client_grant_set,
    client_introspection_set,
)
from tests.oauth import TIMESHEETS_API, client_credentials

pytestmark = pytest.mark.django_db

REPORTS_API = "https://reports.abcinc.example/api"
SPA_CALLBACK = "https://app.abcinc.example/callback"


@pytest.fixture
def management() -> Api:
    """The system API, as its migration created it."""
    return Api.objects.get(system=True)


@pytest.fixture
def populated(timesheets_api, hs256_api, public_client, confidential_client, management) -> None:
    """An API of each algorithm, one application of each type, grants (one on the system API)."""
    batch, _ = confidential_client
    client_create(
        app_type=Client.AppType.SPA,
        name="Timesheets Web",
        client_id="test-spa",
        redirect_uris=[SPA_CALLBACK],
        post_logout_redirect_uris=["https://app.abcinc.example/"],
        allowed_origins=["https://app.abcinc.example"],
    )
    client_create(
        app_type=Client.AppType.REGULAR_WEB,
        name="Payroll",
        client_id="test-web",
        description="Pays people",
        redirect_uris=["https://payroll.abcinc.example/callback", "https://payroll.abcinc.example/cb2"],
        backchannel_logout_uri="https://payroll.abcinc.example/logout",
        backchannel_logout_session_required=True,
        token_endpoint_auth_method="client_secret_post",
    )
    client_grant_set(client=batch, api=timesheets_api, scopes=["read:timesheets", "approve:timesheets"])
    client_grant_set(client=batch, api=management, scopes=["read:users"])
    client_introspection_set(client=batch, api=timesheets_api, allowed=True)


def _text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _wipe() -> None:
    """Everything but what the migrations created (the system API) and the people."""
    for group in Group.objects.all():
        group_delete(actor=None, group=group)
    for role in Role.objects.all():
        role_delete(actor=None, role=role)
    for client in Client.objects.all():
        client_delete(actor=None, client=client)
    for api in Api.objects.filter(system=False):
        api_delete(actor=None, api=api)
    RuleSetting.objects.all().delete()


def _problems(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigInvalid) as caught:
        plan_import(data)
    return [(problem.path, problem.message) for problem in caught.value.problems]


def _entry(data: dict, section: str, key: str, value: str) -> dict:
    return next(entry for entry in data[section] if entry[key] == value)


def test_round_trip_through_an_empty_database(populated, confidential_client):
    first = _text(export_config())
    _wipe()
    assert export_config()["apis"] == export_config()["applications"] == []

    result = apply_import(actor=None, plan=plan_import(load_config(first)))

    assert _text(export_config()) == first
    assert plan_import(json.loads(first)).changes == []
    # The confidential applications were created with new secrets, shown once, that work.
    assert sorted(result.secrets) == ["test-batch", "test-web"]
    assert confidential_client[1] not in result.secrets.values()
    token = client_credentials("test-batch", result.secrets["test-batch"], audience=TIMESHEETS_API)
    assert token.status_code == HTTPStatus.OK
    assert json.loads(token.content)["scope"] == "approve:timesheets read:timesheets"


def test_export_names_applications_and_grants_without_secrets(
    populated, hs256_api, confidential_client, management
):
    data = export_config()
    text = _text(data)

    assert _entry(data, "applications", "client_id", "test-web") == {
        "client_id": "test-web",
        "app_type": "regular_web",
        "name": "Payroll",
        "description": "Pays people",
        "logo_uri": "",
        "token_endpoint_auth_method": "client_secret_post",
        "jwks": None,
        "jwks_uri": "",
        "first_party": False,
        "require_mfa": False,
        "require_par": False,
        "require_dpop": False,
        "rotate_refresh_token": True,
        "refresh_token_absolute_lifetime": 30 * 24 * 3600,
        "refresh_token_idle_lifetime": 15 * 24 * 3600,
        "logout_revokes_refresh_tokens": False,
        "backchannel_logout_uri": "https://payroll.abcinc.example/logout",
        "backchannel_logout_session_required": True,
        "device_code_enabled": False,
        "callbacks": ["https://payroll.abcinc.example/callback", "https://payroll.abcinc.example/cb2"],
        "logout_urls": [],
        "allowed_origins": [],
        "may_introspect": [],
    }
    assert _entry(data, "applications", "client_id", "test-batch")["may_introspect"] == [TIMESHEETS_API]
    assert data["client_grants"] == [
        {"client_id": "test-batch", "api": "@management", "scopes": ["read:users"]},
        {
            "client_id": "test-batch",
            "api": TIMESHEETS_API,
            "scopes": ["approve:timesheets", "read:timesheets"],
        },
    ]
    # The system API is not exported, and no secret is: neither a client's nor an HS256 API's.
    assert [api["identifier"] for api in data["apis"]] == [REPORTS_API, TIMESHEETS_API]
    assert management.identifier not in text
    assert confidential_client[1] not in text
    assert hs256_api.hs256_secret not in text
    assert not [key for key in _keys(data) if "secret" in key]


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value, *(key for item in value.values() for key in _keys(item))]
    if isinstance(value, list):
        return [key for item in value for key in _keys(item)]
    return []


def test_every_kind_of_problem_is_named_with_its_path(populated, management):
    data = export_config()
    web = _entry(data, "applications", "client_id", "test-web")
    web["client_secret"] = "chosen-by-me"
    web["callbacks"] = ["http://payroll.abcinc.example/callback", "https://payroll.abcinc.example/#x"]
    web["allowed_origins"] = ["https://payroll.abcinc.example"]
    mobile = _entry(data, "applications", "client_id", "test-mobile")
    mobile["token_endpoint_auth_method"] = "client_secret_basic"
    mobile["may_introspect"] = [REPORTS_API]
    data["applications"].append(dict(mobile, app_type="m2m", callbacks=[]))
    data["applications"].append({"client_id": "robot", "app_type": "robot"})
    _entry(data, "applications", "client_id", "test-spa").update(name=" ", description="x" * 1001)
    reports = _entry(data, "apis", "identifier", REPORTS_API)
    reports["hs256_secret"] = "x" * 64
    reports["token_lifetime"] = 10
    reports["scopes"].append({"value": "openid", "description": "Sign in"})
    data["apis"].append(dict(reports, identifier=REPORTS_API))
    data["apis"].append({"identifier": "@management", "name": "Mine now"})
    data["apis"].append({"identifier": "not a uri", "name": "Bad", "rbac_enabled": "yes"})
    data["client_grants"].append({"client_id": "test-batch", "api": "https://nowhere.example/", "scopes": []})
    data["client_grants"].append(
        {"client_id": "test-spa", "api": TIMESHEETS_API, "scopes": ["fly:timesheets"]}
    )
    data["roles"].append(
        {"name": "Ops", "permissions": [["@management", "read:users"], ["@management", "fly"]]}
    )
    data["groups"].append({"name": "Ops", "members": ["mallory@evil.example"], "roles": ["Ops"]})

    problems = _problems(data)

    assert problems == [
        (
            "apis[0].hs256_secret",
            f"API {REPORTS_API}: “hs256_secret”: secrets are never imported or exported.",
        ),
        (
            "apis[0].token_lifetime",
            f"API {REPORTS_API}: “token_lifetime”: Ensure this value is greater than or equal to 60.",
        ),
        (
            "apis[0].scopes[1].value",
            f"API {REPORTS_API}: “value”: “openid” is an OpenID Connect scope, not an API permission.",
        ),
        (
            "apis[2].hs256_secret",
            f"API {REPORTS_API}: “hs256_secret”: secrets are never imported or exported.",
        ),
        (
            "apis[2].token_lifetime",
            f"API {REPORTS_API}: “token_lifetime”: Ensure this value is greater than or equal to 60.",
        ),
        (
            "apis[2].scopes[1].value",
            f"API {REPORTS_API}: “value”: “openid” is an OpenID Connect scope, not an API permission.",
        ),
        ("apis[2].identifier", f"API {REPORTS_API} appears more than once."),
        (
            "apis[3].identifier",
            "API @management: the system API is not part of a file; an import cannot create or change it.",
        ),
        ("apis[4].rbac_enabled", "API not a uri: “rbac_enabled” must be true or false."),
        (
            "apis[4].identifier",
            "API not a uri: “identifier”: Use an absolute URI without spaces or fragment, such as https://api.abcinc.example/.",
        ),
        (
            "applications[1].token_endpoint_auth_method",
            "Application test-mobile: a native application authenticates with none.",
        ),
        (
            "applications[1].may_introspect",
            "Application test-mobile: a public application cannot authenticate to introspect tokens.",
        ),
        (
            "applications[2].description",
            "Application test-spa: “description” is longer than 1000 characters.",
        ),
        ("applications[2].name", "Application test-spa: “name” must be a non-empty string."),
        (
            "applications[3].client_secret",
            "Application test-web: “client_secret”: secrets are never imported or exported.",
        ),
        (
            "applications[3].callbacks[0]",
            "Application test-web: http://payroll.abcinc.example/callback: web callbacks must use https "
            "(http only for localhost in development).",
        ),
        (
            "applications[3].callbacks[1]",
            "Application test-web: https://payroll.abcinc.example/#x: a callback URL cannot have a fragment.",
        ),
        (
            "applications[3].allowed_origins",
            "Application test-web: a regular_web application has no web origins.",
        ),
        (
            "applications[4].app_type",
            "Application test-mobile: an application's type cannot change (it is native here).",
        ),
        ("applications[4].client_id", "Application test-mobile appears more than once."),
        (
            "applications[5].app_type",
            "Application robot: “app_type” must be one of native, spa, regular_web, m2m.",
        ),
        (
            "client_grants[2].api",
            "Grant of test-batch on https://nowhere.example/: there is no API with the identifier https://nowhere.example/.",
        ),
        (
            "client_grants[3].client_id",
            f"Grant of test-spa on {TIMESHEETS_API}: only machine-to-machine applications are granted APIs.",
        ),
        (
            "client_grants[3].scopes[0]",
            f"Grant of test-spa on {TIMESHEETS_API}: the API {TIMESHEETS_API} has no scope “fly:timesheets”.",
        ),
        ("roles[0].permissions[1]", "Role “Ops”: the API @management has no scope “fly”."),
        ("groups[0].members", "Group “Ops”: no user has the email mallory@evil.example."),
    ]


def test_secrets_are_never_imported_and_existing_ones_stay(populated, confidential_client):
    data = export_config()
    batch = _entry(data, "applications", "client_id", "test-batch")
    batch["name"] = "Nightly batch"

    result = apply_import(actor=None, plan=plan_import(data))

    assert result.secrets == {}
    assert [(c.action, c.kind, c.name) for c in result.changes] == [("change", "application", "test-batch")]
    assert Client.objects.get(client_id="test-batch").name == "Nightly batch"
    token = client_credentials("test-batch", confidential_client[1], audience=TIMESHEETS_API)
    assert token.status_code == HTTPStatus.OK


def test_plan_lists_changes_to_apis_applications_and_grants(populated):
    data = export_config()
    timesheets = _entry(data, "apis", "identifier", TIMESHEETS_API)
    timesheets["token_lifetime"] = 600
    timesheets["scopes"] = [scope for scope in timesheets["scopes"] if scope["value"] != "delete:timesheets"]
    timesheets["scopes"][0]["description"] = "Approve time"
    timesheets["scopes"].append({"value": "export:timesheets", "description": "Export"})
    data["apis"] = [api for api in data["apis"] if api["identifier"] != REPORTS_API]
    spa = _entry(data, "applications", "client_id", "test-spa")
    spa["callbacks"] = [SPA_CALLBACK, "https://app.abcinc.example/other"]
    data["applications"] = [app for app in data["applications"] if app["client_id"] != "test-web"]
    data["applications"].append({"client_id": "reports-batch", "app_type": "m2m", "name": "Reports batch"})
    data["client_grants"][1]["scopes"] = ["read:timesheets"]
    data["client_grants"].append(
        {"client_id": "reports-batch", "api": "@management", "scopes": ["read:logs"]}
    )

    plan = plan_import(data)

    assert plan.changes[:7] == [
        Change(
            "change",
            "api",
            TIMESHEETS_API,
            (
                "token_lifetime 86400 → 600",
                "+ scope export:timesheets",
                "- scope delete:timesheets",
                "scope approve:timesheets description “Approve the timesheets of your reports” "
                "→ “Approve time”",
            ),
        ),
        Change("remove", "api", REPORTS_API, ("- scope read:reports",)),
        Change(
            "create",
            "application",
            "reports-batch",
            (
                "app_type m2m",
                "a new client secret is generated and shown once",
                "name “Reports batch”",
            ),
        ),
        Change("change", "application", "test-spa", ("+ callback https://app.abcinc.example/other",)),
        Change(
            "remove",
            "application",
            "test-web",
            (
                "- callback https://payroll.abcinc.example/callback",
                "- callback https://payroll.abcinc.example/cb2",
            ),
        ),
        Change("create", "client grant", "reports-batch → @management", ("+ scope read:logs",)),
        Change("change", "client grant", f"test-batch → {TIMESHEETS_API}", ("- scope approve:timesheets",)),
    ]


def test_apply_follows_the_file_through_the_audited_services(populated, staff_user, hs256_api):
    data = export_config()
    data["apis"] = [api for api in data["apis"] if api["identifier"] != REPORTS_API]
    data["applications"] = [app for app in data["applications"] if app["client_id"] != "test-spa"]
    data["client_grants"] = [grant for grant in data["client_grants"] if grant["api"] != "@management"]
    _entry(data, "applications", "client_id", "test-batch")["may_introspect"] = []
    AuditEntry.objects.all().delete()

    apply_import(actor=staff_user, plan=plan_import(data))

    entries = AuditEntry.objects.order_by("id")
    assert {entry.actor_label for entry in entries} == {staff_user.email}
    assert [(entry.action, entry.target_label) for entry in entries] == [
        ("client.ungrant", "Timesheets Batch (test)"),
        ("client.delete", "Timesheets Web"),
        ("api.delete", "Reports API"),
        ("client.introspection_deny", "Timesheets Batch (test)"),
    ]
    assert not Client.objects.filter(client_id="test-spa").exists()
    # A removed API's tokens are refused from now on, as when the dashboard deletes it.
    assert Revocation.objects.filter(kind=Revocation.Kind.AUDIENCE, subject=REPORTS_API).exists()
    assert export_config() == data


def test_the_system_api_is_out_of_reach(populated, management):
    empty = {
        "version": 2,
        **{key: [] for key in ("apis", "applications", "client_grants", "roles", "groups", "rules")},
    }
    empty["role_assignments"] = {}

    apply_import(actor=None, plan=plan_import(empty))

    assert Api.objects.get(system=True) == management
    assert management.scopes.count() > 0
    assert _problems({**empty, "apis": [{"identifier": management.identifier, "name": "Mine"}]}) == [
        (
            "apis[0].identifier",
            f"API {management.identifier}: the system API is not part of a file; "
            "an import cannot create or change it.",
        )
    ]


def test_a_failure_late_in_apply_leaves_nothing_changed(populated, monkeypatch):
    data = export_config()
    data["applications"].append({"client_id": "reports-batch", "app_type": "m2m", "name": "Reports batch"})
    data["apis"] = [api for api in data["apis"] if api["identifier"] != REPORTS_API]
    data["rules"][0]["enabled"] = not data["rules"][0]["enabled"]
    before = export_config()
    audited = AuditEntry.objects.count()
    plan = plan_import(data)

    def refuse(**kwargs):
        raise ValidationError("The rule cannot be changed now.")

    # Rules are the last thing applied: everything before it has been written by then.
    monkeypatch.setattr("authz.services.rule_update", refuse)
    with pytest.raises(ConfigInvalid) as caught:
        apply_import(actor=None, plan=plan)

    assert caught.value.messages == ["The import stopped: The rule cannot be changed now."]
    assert export_config() == before
    assert AuditEntry.objects.count() == audited
    assert not Revocation.objects.filter(subject=REPORTS_API).exists()


def test_apply_checks_the_file_again(populated):
    data = export_config()
    data["applications"].append(
        {
            "client_id": "payroll-2",
            "app_type": "regular_web",
            "name": "Payroll 2",
            "callbacks": [SPA_CALLBACK],
        }
    )
    plan = plan_import(data)
    # Meanwhile someone registers that client id as another type of application.
    client_create(app_type=Client.AppType.M2M, name="Squatter", client_id="payroll-2")
    before = export_config()

    with pytest.raises(ConfigInvalid) as caught:
        apply_import(actor=None, plan=plan)

    assert [(p.path, p.message) for p in caught.value.problems] == [
        (
            f"applications[{len(data['applications']) - 1}].app_type",
            "Application payroll-2: an application's type cannot change (it is m2m here).",
        )
    ]
    assert export_config() == before


def test_a_version_1_file_leaves_apis_and_applications_alone(populated):
    before = export_config()
    data = {key: before[key] for key in ("roles", "groups", "role_assignments", "rules")}

    plan = plan_import({"version": 1, **data})
    apply_import(actor=None, plan=plan)

    assert plan.changes == []
    assert export_config() == before
    assert _problems({"version": 1, **data, "apis": []}) == [("apis", "The file: unknown field “apis”.")]
