"""``manage.py config_export`` and ``config_import``: configuration as code for CI/CD."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuditEntry
from clients.models import Client
from tests.authz.test_transfer_apps import _wipe, management, populated  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_export_then_import_into_an_empty_database_gives_the_same_file(populated, tmp_path: Path):  # noqa: F811
    exported, _ = _run("config_export")
    path = tmp_path / "config.json"
    _run("config_export", "--output", str(path))
    assert path.read_text(encoding="utf-8") == exported
    data = json.loads(exported)
    assert data["client_grants"][0]["api"] == "@management"
    assert [app["client_id"] for app in data["applications"]] == sorted(
        app["client_id"] for app in data["applications"]
    )
    _wipe()
    AuditEntry.objects.all().delete()

    out, err = _run("config_import", str(path))

    assert "Applied" in out
    assert "test-batch client secret: " in out
    assert "test-web client secret: " in out
    assert "New client secrets are shown only this once" in out
    assert err == ""
    assert _run("config_export")[0] == exported
    # The pipeline acts as nobody: the audit log says "system".
    assert set(AuditEntry.objects.values_list("actor_label", flat=True)) == {"system"}
    assert not AuditEntry.objects.filter(actor__isnull=False).exists()


def test_dry_run_shows_the_plan_and_changes_nothing(populated, tmp_path: Path):  # noqa: F811
    exported, _ = _run("config_export")
    data = json.loads(exported)
    data["applications"] = [app for app in data["applications"] if app["client_id"] != "test-spa"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    audited = AuditEntry.objects.count()

    out, err = _run("config_import", str(path), "--dry-run")

    assert out.splitlines() == [
        "0 to create, 0 to change, 1 to remove:",
        "remove  application test-spa",
        "          - callback https://app.abcinc.example/callback",
        "          - logout URL https://app.abcinc.example/",
        "          - allowed origin https://app.abcinc.example",
        "Dry run: nothing was changed.",
    ]
    assert err == ""
    assert Client.objects.filter(client_id="test-spa").exists()
    assert _run("config_export")[0] == exported
    assert AuditEntry.objects.count() == audited

    out, _ = _run("config_import", str(path))
    assert out.splitlines()[-1] == "Applied 1 change."
    assert not Client.objects.filter(client_id="test-spa").exists()

    out, _ = _run("config_import", str(path), "--dry-run")
    assert out.splitlines() == [
        "The configuration already matches the file: nothing to change.",
        "Dry run: nothing was changed.",
    ]


def test_an_invalid_file_exits_nonzero_with_every_problem_on_stderr(populated, tmp_path: Path):  # noqa: F811
    exported, _ = _run("config_export")
    data = json.loads(exported)
    data["applications"][0]["callbacks"] = ["javascript:alert(1)"]
    data["applications"][0]["client_secret"] = "mine"
    data["groups"] = [{"name": "Ops", "members": ["nobody@abcinc.example"]}]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    audited = AuditEntry.objects.count()

    for args in ([str(path)], [str(path), "--dry-run"]):
        out, err = StringIO(), StringIO()
        with pytest.raises(CommandError) as caught:
            call_command("config_import", *args, stdout=out, stderr=err)

        assert caught.value.returncode == 1
        assert str(caught.value) == f"{path} cannot be imported: 3 problems. Nothing was changed."
        assert err.getvalue().splitlines() == [
            "applications[0].client_secret: Application test-batch: “client_secret”: "
            "secrets are never imported or exported.",
            "applications[0].callbacks: Application test-batch: a m2m application has no callback URLs.",
            "groups[0].members: Group “Ops”: no user has the email nobody@abcinc.example.",
        ]
        assert out.getvalue() == ""
    assert _run("config_export")[0] == exported
    assert AuditEntry.objects.count() == audited


def test_a_file_that_is_not_json_or_not_there(tmp_path: Path):
    path = tmp_path / "config.json"
    path.write_text('{"version": 2,')
    err = StringIO()
    with pytest.raises(CommandError, match=r"1 problem\. Nothing was changed"):
        call_command("config_import", str(path), stdout=StringIO(), stderr=err)
    assert err.getvalue().startswith("(file): The file is not valid JSON: ")

    with pytest.raises(CommandError, match="Cannot read"):
        call_command("config_import", str(tmp_path / "missing.json"), stdout=StringIO(), stderr=StringIO())
