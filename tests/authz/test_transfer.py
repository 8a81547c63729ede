"""Export and import of the configuration's roles, groups and rules: a round trip, validation,
diff, audit, and the dashboard page (APIs and applications: test_transfer_apps.py)."""

from __future__ import annotations

import copy
import html
import json
import re
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient

from accounts.models import AuditEntry, User
from authz.models import Group, GroupNesting, Role, RuleSetting
from authz.rules import registered_rules
from authz.services import (
    group_add_member,
    group_add_role,
    group_create,
    group_delete,
    group_nest,
    role_assign,
    role_create,
    role_delete,
    rule_update,
)
from authz.transfer import Change, apply_import, export_config, load_config, plan_import
from clients.models import Client
from tests.oauth import TIMESHEETS_API

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/transfer/",
}
DENY = "authz.rules.deny_deactivated_users"
ROLES_AND_GROUPS = "authz.rules.add_roles_and_groups"


@pytest.fixture
def bob(password) -> User:
    return User.objects.create_user(email="bob@abcinc.example", password=password, name="Bob Brown")


@pytest.fixture
def configured(user, bob, timesheets_api) -> None:
    """Two roles, three nested groups, direct assignments and a reordered, disabled rule."""
    scopes = {scope.value: scope for scope in timesheets_api.scopes.all()}
    member = role_create(
        actor=None,
        name="Timesheet User",
        description="Logs time",
        permissions=[scopes["read:timesheets"], scopes["create:timesheets"]],
    )
    approver = role_create(actor=None, name="Timesheet Approver", permissions=[scopes["approve:timesheets"]])
    role_assign(actor=None, role=member, user=user)
    role_assign(actor=None, role=member, user=bob)
    staff = group_create(actor=None, name="All Staff", description="Everyone")
    managers = group_create(actor=None, name="Managers")
    leads = group_create(actor=None, name="Team Leads")
    group_nest(actor=None, parent=staff, child=managers)
    group_nest(actor=None, parent=managers, child=leads)
    group_add_role(actor=None, group=staff, role=member)
    group_add_role(actor=None, group=managers, role=approver)
    group_add_member(actor=None, group=leads, user=user)
    group_add_member(actor=None, group=staff, user=bob)
    rules = {rule.path: rule for rule in registered_rules()}
    rule_update(actor=None, rule=rules[DENY], enabled=True, position=1)
    rule_update(actor=None, rule=rules[ROLES_AND_GROUPS], enabled=False, position=0)


# Mixed JSON values: the tests index into its lists and dicts.
TIMESHEETS_ENTRY: dict[str, Any] = {
    "identifier": TIMESHEETS_API,
    "name": "Timesheets API",
    "signing_algorithm": "RS256",
    "token_lifetime": 86400,
    "allow_offline_access": True,
    "rbac_enabled": False,
    "add_permissions_claim": True,
    "allow_skip_consent": True,
    "scopes": [
        {"value": "approve:timesheets", "description": "Approve the timesheets of your reports"},
        {"value": "create:timesheets", "description": "Log time"},
        {"value": "delete:timesheets", "description": "Delete your timesheet entries"},
        {"value": "read:timesheets", "description": "Read your timesheets"},
    ],
}
EXPORTED: dict[str, Any] = {
    "version": 2,
    "apis": [TIMESHEETS_ENTRY],
    "applications": [],
    "client_grants": [],
    "roles": [
        {
            "name": "Timesheet Approver",
            "description": "",
            "permissions": [[TIMESHEETS_API, "approve:timesheets"]],
        },
        {
            "name": "Timesheet User",
            "description": "Logs time",
            "permissions": [[TIMESHEETS_API, "create:timesheets"], [TIMESHEETS_API, "read:timesheets"]],
        },
    ],
    "groups": [
        {
            "name": "All Staff",
            "description": "Everyone",
            "members": ["bob@abcinc.example"],
            "roles": ["Timesheet User"],
            "subgroups": ["Managers"],
        },
        {
            "name": "Managers",
            "description": "",
            "members": [],
            "roles": ["Timesheet Approver"],
            "subgroups": ["Team Leads"],
        },
        {
            "name": "Team Leads",
            "description": "",
            "members": ["alice@abcinc.example"],
            "roles": [],
            "subgroups": [],
        },
    ],
    "role_assignments": {
        "Timesheet Approver": [],
        "Timesheet User": ["alice@abcinc.example", "bob@abcinc.example"],
    },
    "rules": [
        {"path": ROLES_AND_GROUPS, "enabled": False, "position": 0},
        {"path": DENY, "enabled": True, "position": 1},
    ],
}


def _wipe() -> None:
    for group in Group.objects.all():
        group_delete(actor=None, group=group)
    for role in Role.objects.all():
        role_delete(actor=None, role=role)
    RuleSetting.objects.all().delete()


def _errors(data: dict) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        plan_import(data)
    return caught.value.messages


def test_export_holds_the_whole_configuration_by_name(configured):
    assert export_config() == EXPORTED


def test_round_trip_rebuilds_the_same_configuration(configured, staff_user):
    exported = json.loads(json.dumps(export_config()))
    _wipe()
    assert export_config()["roles"] == []

    apply_import(actor=staff_user, plan=plan_import(load_config(json.dumps(exported))))

    assert export_config() == exported
    # Importing the same file again has nothing left to do.
    assert plan_import(exported).changes == []


def test_invalid_import_reports_every_problem_and_changes_nothing(configured):
    before = export_config()
    audited = AuditEntry.objects.count()
    data = copy.deepcopy(before)
    data["roles"][0]["permissions"].append([TIMESHEETS_API, "fly:timesheets"])
    data["groups"][2]["subgroups"] = ["All Staff"]  # Team Leads ⊃ All Staff ⊃ Managers ⊃ Team Leads
    data["groups"][0]["members"].append("mallory@evil.example")

    errors = _errors(data)

    assert errors == [
        f"Role “Timesheet Approver”: the API {TIMESHEETS_API} has no scope “fly:timesheets”.",
        "Groups cannot nest in a cycle: All Staff → Managers → Team Leads → All Staff.",
        "Group “All Staff”: no user has the email mallory@evil.example.",
    ]
    assert export_config() == before
    assert AuditEntry.objects.count() == audited


def test_malformed_json_is_refused_with_where_it_breaks():
    with pytest.raises(ValidationError) as caught:
        load_config('{"version": 1,\n "roles": [}')
    assert caught.value.messages == ["The file is not valid JSON: Expecting value (line 2, column 12)."]
    with pytest.raises(ValidationError, match="must hold a JSON object"):
        load_config("[]")


def test_every_kind_of_problem_is_named(configured):
    data = copy.deepcopy(EXPORTED)
    data["extra"] = True
    data["version"] = 3
    data["roles"].append({"name": "Timesheet User", "permissions": [["https://nowhere.example/", "x"]]})
    data["roles"].append({"name": "  ", "permissions": "all"})
    data["groups"][1]["subgroups"].append("Managers")
    data["groups"][1]["roles"].append("Ghost")
    data["groups"].append({"name": "Orphans", "subgroups": ["Nobody"], "members": "bob"})
    data["role_assignments"]["Phantom"] = ["bob@abcinc.example"]
    data["rules"] = [
        {"path": "os.system", "enabled": True, "position": 0},
        {"path": DENY, "enabled": "yes", "position": -1},
    ]

    assert _errors(data) == [
        "The file: unknown field “extra”.",
        "“version” must be 2.",
        "Role “Timesheet User”: there is no API with the identifier https://nowhere.example/.",
        "Role “Timesheet User” appears more than once.",
        "roles[3]: “name” must be a non-empty string.",
        "roles[3]: “permissions” must be a list of [API identifier, scope] pairs.",
        "Group “Managers”: there is no role “Ghost” in the file.",
        "Group “Managers” cannot contain itself.",
        "Group “Orphans”: “members” must be a list of strings.",
        "Group “Orphans”: there is no group “Nobody” in the file.",
        "Assignments of role “Phantom”: there is no role “Phantom” in the file.",
        "rules[0]: 'os.system' is not a rule registered in settings.AUTHZ_RULES.",
        f"Rule {DENY}: “enabled” must be true or false.",
        f"Rule {DENY}: “position” must be a whole number, 0 or more.",
    ]


def test_plan_lists_what_would_be_created_changed_and_removed(configured):
    data = copy.deepcopy(EXPORTED)
    data["roles"][1]["description"] = "Logs and reads time"
    data["roles"][1]["permissions"] = [
        [TIMESHEETS_API, "read:timesheets"],
        [TIMESHEETS_API, "delete:timesheets"],
    ]
    data["roles"].append({"name": "Auditor", "permissions": [[TIMESHEETS_API, "read:timesheets"]]})
    data["role_assignments"]["Auditor"] = ["BOB@abcinc.example"]
    data["groups"] = [group for group in data["groups"] if group["name"] != "Team Leads"]
    data["groups"][1]["subgroups"] = []
    data["rules"][0]["enabled"] = True

    plan = plan_import(data)

    assert plan.changes == [
        Change(
            "create",
            "role",
            "Auditor",
            (f"+ permission {TIMESHEETS_API} read:timesheets", "+ user bob@abcinc.example"),
        ),
        Change(
            "change",
            "role",
            "Timesheet User",
            (
                "description “Logs time” → “Logs and reads time”",
                f"+ permission {TIMESHEETS_API} delete:timesheets",
                f"- permission {TIMESHEETS_API} create:timesheets",
            ),
        ),
        Change("change", "group", "Managers", ("- subgroup Team Leads",)),
        Change("remove", "group", "Team Leads", ("- member alice@abcinc.example",)),
        Change("change", "rule", ROLES_AND_GROUPS, ("enabled",)),
    ]
    assert plan.summary == {"create": 1, "change": 3, "remove": 1}
    # Planning wrote nothing.
    assert export_config() == EXPORTED


def test_apply_goes_through_the_audited_services(configured, staff_user):
    data = copy.deepcopy(EXPORTED)
    data["roles"] = [role for role in data["roles"] if role["name"] != "Timesheet Approver"]
    del data["role_assignments"]["Timesheet Approver"]
    data["groups"][1]["roles"] = []
    data["groups"].append(
        {"name": "Auditors", "members": ["alice@abcinc.example"], "subgroups": ["Managers"]}
    )
    data["rules"][0]["enabled"] = True
    AuditEntry.objects.all().delete()

    changes = apply_import(actor=staff_user, plan=plan_import(data)).changes

    assert [(c.action, c.kind, c.name) for c in changes] == [
        ("remove", "role", "Timesheet Approver"),
        ("create", "group", "Auditors"),
        ("change", "group", "Managers"),
        ("change", "rule", ROLES_AND_GROUPS),
    ]
    entries = AuditEntry.objects.order_by("id")
    assert {entry.actor_label for entry in entries} == {staff_user.email}
    assert [(entry.action, entry.target_label) for entry in entries] == [
        ("role.delete", "Timesheet Approver"),
        ("group.create", "Auditors"),
        ("group.add_member", "Auditors"),
        ("group.nest", "Auditors"),
        ("rule.update", ROLES_AND_GROUPS),
    ]
    assert GroupNesting.objects.filter(parent__name="Auditors", child__name="Managers").exists()
    expected = copy.deepcopy(data)
    expected["groups"][-1] |= {"description": "", "roles": []}
    expected["groups"].sort(key=lambda group: group["name"])
    assert export_config() == expected


# --- The dashboard -------------------------------------------------------------------------------


def _preview(http: HttpClient, data: dict | str, **headers):
    text = data if isinstance(data, str) else json.dumps(data)
    return http.post("/dashboard/transfer/import/", {"text": text}, **headers)


def _hidden(content: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', content)
    assert match, f"no hidden {name}"
    return html.unescape(match.group(1))


def test_pages_are_for_staff_only(user_client):
    for method, path in [
        ("get", "/dashboard/transfer/"),
        ("get", "/dashboard/transfer/export/"),
        ("post", "/dashboard/transfer/import/"),
        ("post", "/dashboard/transfer/import/apply/"),
    ]:
        assert getattr(HttpClient(), method)(path).status_code == HTTPStatus.FOUND, path
        assert getattr(user_client, method)(path).status_code == HTTPStatus.FORBIDDEN, path


def test_export_downloads_json(staff_client, configured):
    page = staff_client.get("/dashboard/transfer/")
    assert page.status_code == HTTPStatus.OK
    assert page.context["export"] == {
        "apis": 1,
        "applications": 0,
        "client_grants": 0,
        "roles": 2,
        "groups": 3,
        "assignments": 2,
        "rules": 2,
    }

    response = staff_client.get("/dashboard/transfer/export/")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="abc-identity-config-\d{4}-\d{2}-\d{2}.json"', response["Content-Disposition"]
    )
    assert "no-cache" in response["Cache-Control"]
    assert json.loads(response.content) == EXPORTED


def test_upload_shows_the_diff_then_apply_writes_it(staff_client, configured, staff_user):
    data = copy.deepcopy(EXPORTED)
    data["roles"][0]["description"] = "Approves <b>time</b>"
    upload = SimpleUploadedFile("config.json", json.dumps(data).encode(), content_type="application/json")

    response = staff_client.post("/dashboard/transfer/import/", {"file": upload})

    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "Review the import" in content
    assert "role <strong>Timesheet Approver</strong>" in content
    assert "description “” → “Approves &lt;b&gt;time&lt;/b&gt;”" in content
    assert Role.objects.get(name="Timesheet Approver").description == ""  # not yet
    config, fingerprint = _hidden(content, "config"), _hidden(content, "fingerprint")
    assert json.loads(config) == data

    response = staff_client.post(
        "/dashboard/transfer/import/apply/", {"config": config, "fingerprint": fingerprint}, follow=True
    )

    assert response.redirect_chain == [("/dashboard/transfer/", HTTPStatus.FOUND)]
    assert "Import applied: 1 change." in response.content.decode()
    assert Role.objects.get(name="Timesheet Approver").description == "Approves <b>time</b>"
    entry = AuditEntry.objects.get(action="role.update")
    assert entry.actor == staff_user
    assert entry.after is not None
    assert entry.after["description"] == "Approves <b>time</b>"


def test_htmx_preview_and_apply(staff_client, configured):
    data = copy.deepcopy(EXPORTED)
    data["rules"][0]["enabled"] = True

    response = _preview(staff_client, data, **HTMX)

    content = response.content.decode()
    assert "<html" not in content
    assert 'hx-post="/dashboard/transfer/import/apply/"' in content
    response = staff_client.post(
        "/dashboard/transfer/import/apply/",
        {"config": _hidden(content, "config"), "fingerprint": _hidden(content, "fingerprint")},
        **HTMX,
    )
    assert response["HX-Redirect"] == "/dashboard/transfer/"
    assert RuleSetting.objects.get(path=ROLES_AND_GROUPS).enabled is True


def test_invalid_upload_lists_the_problems_inline_and_changes_nothing(staff_client, configured):
    data = copy.deepcopy(EXPORTED)
    data["groups"][0]["members"].append("mallory@evil.example")
    data["roles"][0]["permissions"].append([TIMESHEETS_API, "fly:timesheets"])

    response = _preview(staff_client, data, **HTMX)

    content = response.content.decode()
    assert "This file cannot be imported: 2 problems" in content
    assert 'id="id_text_error">Group “All Staff”: no user has the email mallory@evil.example.' in content
    assert "has no scope “fly:timesheets”" in content
    assert "Apply" not in content
    assert export_config() == EXPORTED

    response = _preview(staff_client, "{not json", **HTMX)
    assert (
        "The file is not valid JSON: Expecting property name enclosed in double quotes"
        in response.content.decode()
    )

    response = staff_client.post("/dashboard/transfer/import/", {})
    assert "Choose the JSON file that Export gave you or paste it" in response.content.decode()


def test_apply_validates_the_file_again(staff_client, configured):
    # A forged or edited hidden field gets the same checks as an upload.
    data = copy.deepcopy(EXPORTED)
    data["groups"][2]["subgroups"] = ["All Staff"]
    audited = AuditEntry.objects.count()

    response = staff_client.post(
        "/dashboard/transfer/import/apply/", {"config": json.dumps(data), "fingerprint": "0" * 64}
    )

    assert response.status_code == HTTPStatus.OK
    assert (
        "Groups cannot nest in a cycle: All Staff → Managers → Team Leads → All Staff."
        in response.content.decode()
    )
    assert export_config() == EXPORTED
    assert AuditEntry.objects.count() == audited


def test_apply_stops_when_the_configuration_moved_on_since_the_preview(staff_client, configured, user):
    data = copy.deepcopy(EXPORTED)
    data["role_assignments"]["Timesheet Approver"] = ["alice@abcinc.example"]
    content = _preview(staff_client, data).content.decode()
    # Someone else assigns the role in between: the preview no longer tells the truth.
    role_assign(actor=None, role=Role.objects.get(name="Timesheet Approver"), user=user)
    data["role_assignments"]["Timesheet Approver"] = []
    config = json.dumps(data)

    response = staff_client.post(
        "/dashboard/transfer/import/apply/",
        {"config": config, "fingerprint": _hidden(content, "fingerprint")},
    )

    assert "The configuration changed since this preview" in response.content.decode()
    assert "- user alice@abcinc.example" in response.content.decode()
    assert Role.objects.get(name="Timesheet Approver").users.filter(pk=user.pk).exists()


def test_apply_shows_the_secret_of_a_created_application_once(staff_client, configured):
    data = copy.deepcopy(EXPORTED)
    data["applications"] = [{"client_id": "reports-batch", "app_type": "m2m", "name": "Reports batch"}]
    content = _preview(staff_client, data).content.decode()
    assert "a new client secret is generated and shown once" in content

    response = staff_client.post(
        "/dashboard/transfer/import/apply/",
        {"config": _hidden(content, "config"), "fingerprint": _hidden(content, "fingerprint")},
    )

    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "Import applied: 1 change." in content
    assert "Copy their client secrets now: they will not be shown again." in content
    match = re.search(r'<dt>reports-batch</dt><dd><code class="secret">([^<]+)</code>', content)
    assert match
    assert check_password(match.group(1), Client.objects.get(client_id="reports-batch").client_secret)
    assert "no-store" in response["Cache-Control"]
    # Nothing keeps it: the next page has no trace of it.
    assert match.group(1) not in staff_client.get("/dashboard/transfer/").content.decode()
