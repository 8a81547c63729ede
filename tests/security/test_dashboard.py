"""Catalogue: dashboard.

Staff only, CSRF on every change, brute force throttled, sessions and cookies hardened,
strict security headers. See also tests/accounts/test_dashboard.py,
tests/accounts/test_login.py and the dashboard tests of each app.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient

from accounts.models import User
from apis.keys import signing_key_current
from apis.models import Api, SigningKey
from authz.models import Group, Role
from clients.models import Client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/"}


@pytest.fixture
def target(user, confidential_client, timesheets_api) -> dict:
    """Objects the dashboard can change, and a way to see whether anything did."""
    signing_key_current()
    return {"user": user, "client": confidential_client[0], "api": timesheets_api}


def _state(target: dict) -> tuple:
    user = User.objects.get(pk=target["user"].pk)
    client = Client.objects.get(pk=target["client"].pk)
    return (
        Api.objects.count(),
        Role.objects.count(),
        Group.objects.count(),
        Client.objects.count(),
        SigningKey.objects.count(),
        user.is_active,
        user.is_staff,
        user.name,
        client.client_secret,
    )


def _changes(target: dict) -> list[tuple[str, str, dict]]:
    user, client, api = target["user"], target["client"], target["api"]
    return [
        ("api-create", "/dashboard/apis/new/", {"name": "Evil", "identifier": "https://evil.example/api"}),
        ("role-create", "/dashboard/roles/new/", {"name": "Evil role"}),
        ("group-create", "/dashboard/groups/new/", {"name": "Evil group"}),
        ("client-create", "/dashboard/applications/new/", {"name": "Evil app", "app_type": "m2m"}),
        ("user-deactivate", f"/dashboard/people/{user.pk}/deactivate/", {"confirm": "on"}),
        ("user-profile", f"/dashboard/people/{user.pk}/profile/", {"name": "Hacked"}),
        ("secret-rotate", f"/dashboard/applications/{client.pk}/credentials/rotate/", {"confirm": "on"}),
        ("key-rotate", f"/dashboard/apis/{api.pk}/signing/key/rotate/", {"confirm": "on"}),
    ]


CHANGE_IDS = [
    "api-create",
    "role-create",
    "group-create",
    "client-create",
    "user-deactivate",
    "user-profile",
    "secret-rotate",
    "key-rotate",
]


def _change(target: dict, name: str) -> tuple[str, dict]:
    (path, data) = next((path, data) for key, path, data in _changes(target) if key == name)
    return path, data


# --- Anonymous ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CHANGE_IDS)
def test_anonymous_changes_are_sent_to_login_and_change_nothing(target, name):
    path, data = _change(target, name)
    before = _state(target)
    response = HttpClient().post(path, data)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/?next=")
    assert _state(target) == before


@pytest.mark.parametrize("name", CHANGE_IDS)
def test_anonymous_htmx_changes_get_hx_redirect_and_no_data(target, name):
    path, data = _change(target, name)
    before = _state(target)
    response = HttpClient().post(path, data, **HTMX)
    assert response["HX-Redirect"].startswith("/login/?next=")
    assert target["user"].email.encode() not in response.content
    assert b"<form" not in response.content
    assert _state(target) == before


@pytest.mark.parametrize(
    "path", ["/dashboard/", "/dashboard/users/", "/dashboard/audit/", "/dashboard/transfer/export/"]
)
def test_anonymous_reads_show_no_data(target, path):
    response = HttpClient().get(path)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/")
    assert target["user"].email.encode() not in response.content


# --- Non-staff ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CHANGE_IDS)
def test_non_staff_changes_are_403_change_nothing_and_are_logged(target, user_client, caplog, name):
    path, data = _change(target, name)
    before = _state(target)
    with caplog.at_level(logging.WARNING):
        response = user_client.post(path, data)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert _state(target) == before
    denials = [r for r in caplog.records if r.levelno >= logging.WARNING and path in r.getMessage()]
    assert denials, "the denial was not logged"
    assert str(target["user"].pk) in denials[0].getMessage()


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/users/", "/dashboard/transfer/export/"])
def test_non_staff_reads_are_403_with_no_data(target, user_client, staff_user, path):
    response = user_client.get(path)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert staff_user.email.encode() not in response.content


def test_a_non_staff_user_cannot_reach_even_their_own_person_page(target, user_client):
    assert user_client.get(f"/dashboard/people/{target['user'].pk}/").status_code == HTTPStatus.FORBIDDEN


# --- No privilege escalation through the dashboard -------------------------------------------


def test_the_profile_form_cannot_make_anyone_staff_or_superuser(staff_client, target):
    user = target["user"]
    response = staff_client.post(
        f"/dashboard/people/{user.pk}/profile/",
        {"name": "Alice", "is_staff": "on", "is_superuser": "on", "is_active": "on", "password": "x"},
    )
    assert response.status_code in {HTTPStatus.OK, HTTPStatus.FOUND}
    user.refresh_from_db()
    assert not user.is_staff
    assert not user.is_superuser
    assert user.check_password("correct-horse-battery-staple")


def test_a_staff_user_cannot_promote_themselves_to_superuser(staff_client, staff_user):
    staff_client.post(f"/dashboard/people/{staff_user.pk}/profile/", {"name": "Ada", "is_superuser": "on"})
    staff_user.refresh_from_db()
    assert not staff_user.is_superuser


# --- CSRF ---------------------------------------------------------------------------------------


@pytest.fixture
def csrf_staff(staff_user) -> tuple[HttpClient, str]:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(staff_user)
    http.get("/dashboard/")
    return http, http.cookies["csrftoken"].value


@pytest.mark.parametrize("name", CHANGE_IDS)
@pytest.mark.parametrize("how", ["form", "htmx", "htmx-wrong-header"])
def test_every_change_needs_the_csrf_token(target, csrf_staff, name, how):
    http, token = csrf_staff
    path, data = _change(target, name)
    before = _state(target)
    headers = {} if how == "form" else dict(HTMX)
    if how == "htmx-wrong-header":
        headers["HTTP_X_CSRFTOKEN"] = "x" * len(token)
    forged = http.post(path, data, **headers)
    assert forged.status_code == HTTPStatus.FORBIDDEN
    assert _state(target) == before

    # The same request with the token goes through (the 403 was the CSRF check).
    allowed = http.post(path, data, **HTMX, HTTP_X_CSRFTOKEN=token)
    assert allowed.status_code != HTTPStatus.FORBIDDEN


def test_logout_is_post_and_csrf_protected(user):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(user)
    assert http.get("/logout/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert http.post("/logout/").status_code == HTTPStatus.FORBIDDEN
    assert http.get("/account/").status_code == HTTPStatus.OK  # still signed in
    http.get("/account/")
    token = http.cookies["csrftoken"].value
    assert http.post("/logout/", {"csrfmiddlewaretoken": token}).status_code == HTTPStatus.FOUND
    assert http.get("/account/")["Location"].startswith("/login/")


def test_the_login_form_is_csrf_protected(user, password):
    http = HttpClient(enforce_csrf_checks=True)
    response = http.post("/login/", {"username": user.email, "password": password})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "_auth_user_id" not in http.session


# --- Brute force --------------------------------------------------------------------------------


def _login(email: str, password: str, address: str):
    return HttpClient().post("/login/", {"username": email, "password": password}, REMOTE_ADDR=address)


def _assert_throttled(response) -> None:
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(response["Retry-After"]) > 0
    assert "sessionid" not in response.cookies or not response.cookies["sessionid"].value


def test_repeated_failures_on_one_account_lock_it_from_any_address(user, password, steady_rate_window):
    for attempt in range(10):
        _login(user.email, "wrong-password", f"10.0.0.{attempt + 1}")
    _assert_throttled(_login(user.email, password, "10.0.1.1"))


def test_repeated_failures_from_one_address_throttle_it_whatever_the_account(
    user, password, settings, steady_rate_window
):
    # An address is stopped at a threshold an office behind one NAT does not reach by
    # honest mistakes (accounts are locked on their own: tests/accounts/test_abuse_lockouts.py).
    for attempt in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        _login(f"nobody{attempt}@abcinc.example", "wrong-password", "10.0.2.1")
    _assert_throttled(_login(user.email, password, "10.0.2.1"))


def test_a_lockout_does_not_reveal_whether_the_account_exists(user):
    for attempt in range(10):
        _login(user.email, "wrong-password", f"10.0.3.{attempt + 1}")
        _login("ghost@abcinc.example", "wrong-password", f"10.0.4.{attempt + 1}")
    real, ghost = _login(user.email, "x", "10.0.5.1"), _login("ghost@abcinc.example", "x", "10.0.5.2")
    assert real.status_code == ghost.status_code


def test_a_few_failures_do_not_lock_anyone_out(user, password):
    for attempt in range(2):
        _login(user.email, "wrong-password", f"10.0.6.{attempt + 1}")
    assert _login(user.email, password, "10.0.6.9").status_code == HTTPStatus.FOUND


# --- Sessions and cookies -----------------------------------------------------------------------


def test_the_session_id_rotates_at_login(user, password):
    http = HttpClient()
    http.get("/login/")
    http.session.save()
    before = http.session.session_key
    response = http.post("/login/", {"username": user.email, "password": password})
    assert response.status_code == HTTPStatus.FOUND
    assert http.session.session_key != before


def test_session_and_csrf_cookies_are_httponly_and_samesite(user, password):
    http = HttpClient()
    http.get("/login/")
    response = http.post("/login/", {"username": user.email, "password": password})
    session = response.cookies["sessionid"]
    assert session["httponly"]
    assert session["samesite"].lower() in {"lax", "strict"}
    assert http.cookies["csrftoken"]["samesite"].lower() in {"lax", "strict"}


def _production(script: str) -> dict:
    ours = {
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "OIDC_ISSUER",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "DJANGO_SETTINGS_MODULE",
    }
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "prod-test-key-" + "0123456789abcdefghij" * 3,
        "ALLOWED_HOSTS": "id.abcinc.example",
        "OIDC_ISSUER": "https://id.abcinc.example",
        "REDIS_URL": env.get("REDIS_URL", "redis://127.0.0.1:6379/15"),  # not contacted here
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_httponly_and_samesite():
    names = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SAMESITE",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "DEBUG",
    ]
    found = _production(
        "import json; from django.conf import settings\n"
        f"print(json.dumps({{name: getattr(settings, name) for name in {names!r}}}))"
    )
    assert found["SESSION_COOKIE_SECURE"] is True
    assert found["CSRF_COOKIE_SECURE"] is True
    assert found["SESSION_COOKIE_HTTPONLY"] is True
    assert found["SESSION_COOKIE_SAMESITE"] in {"Lax", "Strict"}
    assert found["CSRF_COOKIE_SAMESITE"] in {"Lax", "Strict"}
    assert found["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert found["SECURE_SSL_REDIRECT"] is True
    assert found["DEBUG"] is False


def test_production_sends_hsts():
    headers = _production(
        "import json; from django.test import Client\n"
        "r = Client().get('/.well-known/openid-configuration', secure=True, HTTP_HOST='id.abcinc.example')\n"
        "print(json.dumps({'status': r.status_code, **{k: v for k, v in r.headers.items()}}))"
    )
    assert headers["status"] == HTTPStatus.OK
    hsts = headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts


# --- Security headers ---------------------------------------------------------------------------


def _csp(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {d[0].lower(): d[1:] for d in directives}


@pytest.fixture(params=["/dashboard/", "/dashboard/users/", "/login/", "/account/", "/time/"])
def page(request, staff_client):
    response = staff_client.get(request.param) if request.param != "/login/" else HttpClient().get("/login/")
    assert response.status_code == HTTPStatus.OK, request.param
    return response


def test_pages_send_a_strict_content_security_policy(page):
    csp = _csp(page)
    assert csp.get("object-src") == ["'none'"]
    assert csp.get("base-uri") == ["'none'"]
    assert csp.get("frame-ancestors") == ["'none'"]
    for directive in ("script-src", "default-src"):
        assert "'unsafe-eval'" not in csp.get(directive, [])
    assert "'unsafe-inline'" not in csp.get("script-src", csp.get("default-src", []))
    assert csp.get("script-src") or csp.get("default-src"), "no script policy at all"


def test_pages_send_nosniff_deny_and_a_strict_referrer_policy(page):
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["X-Frame-Options"] == "DENY"
    assert page["Referrer-Policy"] in {"no-referrer", "same-origin", "strict-origin"}


def test_pages_load_nothing_from_another_origin(page):
    content = page.content.decode()
    assert not re.search(r'<(script|img|iframe)[^>]+src="(https?:)?//', content)
    assert not re.search(r'<link[^>]+href="(https?:)?//', content)
