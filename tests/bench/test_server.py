"""Our server under the bench (bench/server.py): production settings, plain token requests."""

from __future__ import annotations

from bench.options import FORM
from bench.server import Server, server_env


def test_production_settings_from_the_environment_only(monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    monkeypatch.setenv("PORT", "8000")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/14")
    env = server_env(4321, "postgres://db/abc_identity_bench")
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    assert env["OIDC_ISSUER"] == "https://127.0.0.1:4321"
    assert env["DATABASE_URL"] == "postgres://db/abc_identity_bench"
    assert env["RATE_LIMIT_PER_IP"] == "0"
    assert env["ALLOWED_HOSTS"] == "127.0.0.1"
    assert len(env["SECRET_KEY"]) >= 64
    assert env["REDIS_URL"] == "redis://127.0.0.1:6379/14"  # passes through: a shared cache
    assert "PORT" not in env


def test_without_redis_url_the_machines_redis_is_used(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert server_env(4321, "postgres://db/x")["REDIS_URL"] == "redis://127.0.0.1:6379/14"


def test_token_requests_are_those_of_a_plain_client():
    server = Server(port=1, env={}, issuer="https://127.0.0.1:1", password="p", client_secret="s")
    # The proxy's header only: no cookie, Origin or CSRF token (the token endpoint is exempt).
    assert server.token_headers() == {"X-Forwarded-Proto": "https", "Content-Type": FORM}
    assert server.token_headers("application/json")["Content-Type"] == "application/json"
