"""Our server under the bench (bench/server.py): production settings, plain token requests."""

from __future__ import annotations

import pytest

from bench.database import database_choice, redact, uses_postgresql
from bench.options import FORM
from bench.server import Server, cache_choice, load_data_command, parse_features, server_env


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


def test_the_server_serves_the_unauthenticated_baseline(monkeypatch):
    monkeypatch.delenv("BENCH_BASELINE_VIEWS", raising=False)
    assert server_env(4321, "postgres://db/x")["BENCH_BASELINE_VIEWS"] == "1"


def test_the_cache_is_said_before_the_run(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2@cache.internal:6380/3")
    assert cache_choice() == "Redis redis://:***@cache.internal:6380/3 (REDIS_URL)"
    monkeypatch.delenv("REDIS_URL")
    assert cache_choice().startswith("Redis redis://127.0.0.1:6379/14 (REDIS_URL unset")


def test_the_database_is_said_before_it_is_made(monkeypatch):
    monkeypatch.delenv("BENCH_DATABASE_NAME", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres:pw@127.0.0.1:5433/abc_identity")
    assert database_choice() == (
        "PostgreSQL at 127.0.0.1:5433 (DATABASE_URL), database abc_identity_bench made afresh"
    )
    assert uses_postgresql()
    monkeypatch.delenv("DATABASE_URL")
    assert database_choice().startswith("SQLite var/bench/bench.sqlite3 made afresh (DATABASE_URL unset")
    assert not uses_postgresql()
    monkeypatch.setenv("DATABASE_URL", "mysql://db/x")
    with pytest.raises(SystemExit, match="must be PostgreSQL"):
        database_choice()


def test_a_password_never_reaches_the_console():
    assert redact("postgres://postgres:s3cret@db:5432/x") == "postgres://postgres:***@db:5432/x"
    assert redact("postgres://postgres@db/x") == "postgres://postgres@db/x"


def test_features_the_set_up_reports():
    output = "Operations to perform\nbench feature: es256=ok\nbench feature: other=no X here: sorry\n"
    assert parse_features(output) == {"es256": "ok", "other": "no X here: sorry"}
    assert parse_features("bench data: 3 users added") == {}


def test_growing_the_data_is_the_same_script_with_larger_counts():
    command = load_data_command(users=1_000_000, clients=10_000, entries=0)
    assert command[1:] == ["bench/load_data.py", "--users", "1000000", "--clients", "10000", "--entries", "0",
                           "--entries-for", "alice@abcinc.example"]  # fmt: skip
