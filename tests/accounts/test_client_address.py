"""One function derives the client's address, trusting X-Forwarded-For only through the
configured proxies; the lockout, the rate limits and the audit log all use it (issue 13, point 2)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client as HttpClient
from django.test import RequestFactory

from accounts.models import AuditEntry
from accounts.throttle import client_address

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("steady_rate_window")]


def _request(remote: str, forwarded: str | None = None):
    extra: dict[str, Any] = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_without_a_configured_proxy_x_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_through_a_trusted_proxy_the_forwarded_client_is_used(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(_request("10.0.0.2", "198.51.100.1")) == "198.51.100.1"


def test_a_proxy_reaching_a_dual_stack_socket_over_ipv4_is_still_trusted(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(_request("::ffff:10.0.0.2", "198.51.100.1")) == "198.51.100.1"
    # Mapping is not a way around the list: an untrusted peer stays the client.
    assert client_address(_request("::ffff:192.0.2.1", "198.51.100.1")) == "::ffff:192.0.2.1"


def test_a_spoofed_leftmost_entry_is_not_believed(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    # The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the address it saw.
    assert client_address(_request("10.0.0.2", "1.2.3.4, 198.51.100.1")) == "198.51.100.1"


def test_chained_trusted_proxies_are_skipped(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::/32"]
    assert client_address(_request("10.0.0.2", "198.51.100.1, 2001:db8::5, 10.1.1.1")) == "198.51.100.1"


def test_an_untrusted_peer_cannot_pick_its_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    assert client_address(_request("203.0.113.9", "10.0.0.2")) == "203.0.113.9"


def test_a_malformed_forwarded_entry_falls_back_to_the_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    assert client_address(_request("10.0.0.2", "not-an-address")) == "10.0.0.2"


def test_the_lockout_and_the_audit_log_see_the_forwarded_address(user, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    HttpClient(REMOTE_ADDR="10.0.0.1").post(
        "/login/",
        {"username": user.email, "password": "wrong"},
        HTTP_X_FORWARDED_FOR="198.51.100.77",
    )
    assert AccessAttempt.objects.get().ip_address == "198.51.100.77"
    assert AuditEntry.objects.get(action="security.login_failure").ip == "198.51.100.77"


def test_a_spoofed_header_without_a_proxy_does_not_change_the_lockout_address(user, settings):
    settings.TRUSTED_PROXIES = []
    response = HttpClient(REMOTE_ADDR="203.0.113.3").post(
        "/login/", {"username": user.email, "password": "wrong"}, HTTP_X_FORWARDED_FOR="198.51.100.77"
    )
    assert response.status_code == HTTPStatus.OK
    assert AccessAttempt.objects.get().ip_address == "203.0.113.3"
    assert AuditEntry.objects.get(action="security.login_failure").ip == "203.0.113.3"


def test_the_sign_in_rate_limit_counts_the_forwarded_client(user, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    settings.RATE_LIMIT_PER_IP = 2
    proxy = HttpClient(REMOTE_ADDR="10.0.0.1")
    for _ in range(2):
        proxy.post("/login/", {"username": user.email, "password": "x"}, HTTP_X_FORWARDED_FOR="203.0.113.1")
    other = proxy.post(
        "/login/", {"username": user.email, "password": "x"}, HTTP_X_FORWARDED_FOR="203.0.113.2"
    )
    assert other.status_code == HTTPStatus.OK
