from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command

from accounts.models import User
from apis.models import Api
from clients.models import Client
from clients.selectors import client_grants

pytestmark = pytest.mark.django_db
EMAILS = {f"{name}@abcinc.example" for name in ("admin", "manager", "alice", "bob", "carol", "dave")}


def _seed(*args: str, **env) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_creates_abc_inc_and_is_idempotent():
    _seed("--password", "Demo-password-2026")
    _seed("--password", "Demo-password-2026")
    assert set(User.objects.values_list("email", flat=True)) == EMAILS
    manager = User.objects.get(email="manager@abcinc.example")
    assert {u.email for u in manager.reports.all()} == {
        f"{n}@abcinc.example" for n in ("alice", "bob", "carol", "dave")
    }
    assert User.objects.get(email="dave@abcinc.example").worker_type == User.WorkerType.CONTRACTOR
    assert list(User.objects.filter(is_staff=True).values_list("email", flat=True)) == [
        "admin@abcinc.example"
    ]
    assert User.objects.get(email="alice@abcinc.example").check_password("Demo-password-2026")

    api = Api.objects.get(system=False)
    assert api.identifier == "https://timesheets.abcinc.example/api"
    assert api.signing_algorithm == "RS256"
    assert api.allow_offline_access and api.rbac_enabled
    assert set(api.scopes.values_list("value", flat=True)) == {
        "read:timesheets",
        "create:timesheets",
        "delete:timesheets",
        "approve:timesheets",
    }


def test_seed_registers_the_timesheets_applications(monkeypatch):
    monkeypatch.delenv("DEMO_CLIENT_SECRET", raising=False)
    first = _seed("--password", "Demo-password-2026")
    secret = next(line for line in first.splitlines() if "client secret:" in line).split(": ")[1].strip()
    again = _seed("--password", "Demo-password-2026")
    assert "client secret:" not in again  # shown once, kept

    mobile = Client.objects.get(client_id="timesheets-mobile")
    assert mobile.app_type == Client.AppType.NATIVE
    assert mobile.client_type == Client.CLIENT_PUBLIC
    assert mobile.redirect_uris.split() == ["com.abcinc.timesheets://callback", "http://127.0.0.1/callback"]

    batch = Client.objects.get(client_id="timesheets-batch")
    assert batch.app_type == Client.AppType.M2M
    assert check_password(secret, batch.client_secret)
    assert client_grants(client=batch) == {
        Api.objects.get(system=False).pk: {"create:timesheets", "read:timesheets"}
    }


def test_the_batch_secret_can_be_chosen_and_must_be_long():
    with pytest.raises(CommandError, match="at least 32"):
        _seed("--password", "Demo-password-2026", "--client-secret", "short")
    chosen = "s" * 8 + "ecret-chosen-by-the-operator-0123456789"
    _seed("--password", "Demo-password-2026", "--client-secret", chosen)
    assert check_password(chosen, Client.objects.get(client_id="timesheets-batch").client_secret)


def test_generated_passwords_are_printed_once_and_work(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    first = _seed()
    line = next(line for line in first.splitlines() if "alice@" in line)
    password = line.split("password: ")[1].strip()
    assert User.objects.get(email="alice@abcinc.example").check_password(password)

    second = _seed()
    assert password not in second
    assert "(unchanged)" in second
    assert User.objects.get(email="alice@abcinc.example").check_password(password)


def test_a_weak_demo_password_is_refused_and_changes_nothing():
    with pytest.raises(CommandError, match="too weak"):
        _seed("--password", "1234")
    assert not User.objects.exists()
