"""Every page is sent with the security headers a browser needs."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from tests.oauth import Pkce, authorize_url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/login/", "/dashboard/", "/.well-known/openid-configuration"])
def test_strict_content_security_policy(path):
    policy = HttpClient().get(path)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in policy and "unsafe-inline" not in policy


def test_login_and_authorize_leak_no_referrer_and_cannot_be_framed(public_client, user_client):
    for response in (
        HttpClient().get("/login/"),
        user_client.get(authorize_url(public_client.client_id, Pkce.new())),
    ):
        # same-origin: nothing to other sites (no-referrer would break the forms' CSRF check).
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_use_no_inline_script(staff_user):
    http = HttpClient()
    http.force_login(staff_user)
    for path in ("/dashboard/", "/dashboard/users/", "/time/", "/login/"):
        html = http.get(path, follow=True).content.decode()
        assert "<script>" not in html
        assert " onclick=" not in html and " style=" not in html


def test_after_the_password_post_a_302_never_a_307(user, password):
    response = HttpClient().post("/login/", {"username": user.email, "password": password})
    assert response.status_code == 302
