"""Our server as production runs it: its environment, the data set-up, gunicorn, requests to it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.client import Reply, basic, fetch, free_port
from bench.console import log
from bench.database import bench_database, redact
from bench.options import API_USER, AUDIENCE, BATCH_CLIENT, FORM, ROOT, VAR, VENV_BIN, Config
from bench.processes import Processes, tail, wait_for


@dataclass
class Server:
    port: int
    env: dict[str, str]
    issuer: str
    password: str
    client_secret: str
    process: subprocess.Popen | None = None
    database_name: str | None = None  # PostgreSQL's, for the CPU it spends; None: SQLite
    # What the set-up could make ("bench feature: <name>=<ok or why not>" from load_data.py).
    features: dict[str, str] = field(default_factory=dict)

    # The TLS-terminating proxy's header: production settings trust it, so the request is
    # https: no redirect, secure cookies apply, CSRF checks the https origin.
    base_headers = {"X-Forwarded-Proto": "https"}

    def token_headers(self, content_type: str = FORM) -> dict[str, str]:
        return {**self.base_headers, "Content-Type": content_type}

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, body: str = "") -> Reply:
        return fetch(self.port, method, path, {**self.base_headers, **(headers or {})}, body)


DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


def server_env(port: int, database_url: str) -> dict[str, str]:
    """Production settings, configured the only way production is: environment variables."""
    inherited = {
        key: value for key, value in os.environ.items() if key not in {"PORT", "DJANGO_SETTINGS_MODULE"}
    }
    return inherited | {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Production refuses an http issuer: TLS ends at a proxy (X-Forwarded-Proto).
        "OIDC_ISSUER": f"https://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        # All load comes from one address (loopback) standing for many clients: the
        # per-address ceiling would answer 429 to the benchmark itself.
        "RATE_LIMIT_PER_IP": "0",
        # Production refuses to start without the Redis its workers share: this machine's.
        "REDIS_URL": inherited.get("REDIS_URL") or DEFAULT_REDIS_URL,
        # GET /bench/timesheets: the API's list without authentication (api_get_noauth).
        "BENCH_BASELINE_VIEWS": "1",
    }


def cache_choice() -> str:
    """Which cache the server will share between its workers, said before it starts."""
    given = os.environ.get("REDIS_URL", "").strip()
    if given:
        return f"Redis {redact(given)} (REDIS_URL)"
    return f"Redis {DEFAULT_REDIS_URL} (REDIS_URL unset: this machine's; production needs one)"


def prepare_server(cfg: Config, processes: Processes, meta: dict[str, Any]) -> Server:
    """Fresh database, migrations, static files, demo and bulk data; then gunicorn."""
    port = free_port()
    url, database = bench_database()
    server = Server(
        port=port,
        issuer=f"https://127.0.0.1:{port}",
        password="Bench-" + secrets.token_urlsafe(12),
        client_secret=secrets.token_urlsafe(32),
        env=server_env(port, url),
    )
    server.database_name = urlsplit(url).path.lstrip("/") if url.startswith("postgres") else None
    meta["config"]["database"] = database
    meta["config"]["cache"] = cache_choice()
    set_up_data(cfg, processes, server, meta)
    start_gunicorn(cfg, processes, server)
    log(f"  gunicorn       127.0.0.1:{server.port}; {database}; cache {meta['config']['cache']}")
    return server


def set_up_data(cfg: Config, processes: Processes, server: Server, meta: dict[str, Any]) -> None:
    """Each set-up step as a child with the server's environment; timings go into ``meta``."""
    python = [sys.executable]
    steps = [
        ("migrate", [*python, "manage.py", "migrate", "--noinput"]),
        ("collectstatic", [*python, "manage.py", "collectstatic", "--noinput"]),
        ("seed_demo", [*python, "manage.py", "seed_demo", "--password", server.password,
                       "--client-secret", server.client_secret]),
        ("load_data", load_data_command(users=cfg.users, clients=cfg.clients, entries=cfg.entries)),
    ]  # fmt: skip
    for name, command in steps:
        run_setup_step(processes, server, meta, name, command)


def load_data_command(*, users: int, clients: int, entries: int) -> list[str]:
    """bench/load_data.py: grows the bulk data to these counts (what exists already stays)."""
    return [sys.executable, "bench/load_data.py", "--users", str(users), "--clients", str(clients),
            "--entries", str(entries), "--entries-for", API_USER]  # fmt: skip


def run_setup_step(
    processes: Processes, server: Server, meta: dict[str, Any], name: str, command: list[str]
) -> None:
    """One step as a child with the server's environment; its timing goes into ``meta``, the
    features it reports into ``server.features``. A failed step ends the run."""
    started = time.monotonic()
    code, output = processes.run(name, command, timeout=1800, cwd=ROOT, env=server.env)
    with (VAR / "setup.log").open("a") as setup_log:
        setup_log.write(f"== {name}\n{output}\n")
    meta.setdefault("setup_seconds", {})[name] = round(time.monotonic() - started, 1)
    if code != 0:
        raise SystemExit(f"bench: {name} failed (exit {code}):\n{output[-2000:]}")
    server.features |= parse_features(output)
    summary = next((line for line in output.splitlines() if line.startswith("bench data:")), "")
    log(f"  {name:<14} {time.monotonic() - started:5.1f} s  {summary}")


def parse_features(output: str) -> dict[str, str]:
    """``bench feature: es256=ok`` lines: each feature and "ok", or why it is missing."""
    found = {}
    for line in output.splitlines():
        if line.startswith(FEATURE):
            name, _, status = line.removeprefix(FEATURE).partition("=")
            found[name.strip()] = status.strip()
    return found


FEATURE = "bench feature:"


def start_gunicorn(
    cfg: Config, processes: Processes, server: Server, *, app: str = "config.wsgi", name: str = "gunicorn"
) -> None:
    """gunicorn serving ``app`` on ``server.port``; its output goes to var/bench/<name>.log."""
    # Production's settings file, with the run's port and worker count on top.
    command = [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "config" / "gunicorn.py"), app,
               "--bind", f"127.0.0.1:{server.port}", "--workers", str(cfg.workers),
               "--log-level", "warning"]  # fmt: skip
    log_path = VAR / f"{name}.log"
    server.process = processes.start(name, command, log_path=log_path, cwd=ROOT, env=server.env)
    ready = wait_for(
        lambda: server.request("GET", "/.well-known/openid-configuration").status == 200,
        timeout=60,
        process=server.process,
    )
    if not ready:
        raise SystemExit(f"bench: {name} did not become ready:\n{tail(log_path)}")


def plain_client_gets_token(server: Server) -> bool:
    """A token client is not a browser: a plain request (no cookie, no Origin) must get a token."""
    headers = {"Content-Type": FORM, "Authorization": basic(BATCH_CLIENT, server.client_secret)}
    body = urlencode({"grant_type": "client_credentials", "audience": AUDIENCE})
    reply = server.request("POST", "/oauth/token", headers, body)
    if reply.status != 200:
        log(f"  WARNING: a plain client_credentials request failed: {reply.snippet()}")
    return reply.status == 200
