"""`make bench`: load-test the server as production runs it, next to a certified peer.

Starts gunicorn (config.wsgi, production settings) on 127.0.0.1, loads the demo data plus
10,000 users, drives each scenario with wrk at fixed concurrency for a fixed time, runs the
peer (panva oidc-provider, ../shared/bench/peer) the same way, prints a table and ratios,
writes bench-results/result-<timestamp>.json, and stops every process it started, also on
failure or Ctrl-C. bench/README.md explains the scenarios and how to read the numbers.

Environment: BENCH_SECONDS (20), BENCH_CONNECTIONS (16), BENCH_THREADS (2),
BENCH_WORKERS (2 x cores + 1), BENCH_USERS (10000), BENCH_ENTRIES (250), BENCH_PEER (1;
0 skips the peer), BENCH_PEER_DIR (../shared/bench/peer), BENCH_ONLY (comma-separated
scenario names), BENCH_SQLITE_OPTIONS, DATABASE_URL (PostgreSQL: a separate database
<name>_bench on that server, recreated; unset: a fresh SQLite file var/bench/bench.sqlite3).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402 - after the path set-up, when run as a script
    WrkResult,
    codes_needed,
    format_ratios,
    format_table,
    lua_spec,
    ok_rps,
    parse_wrk,
    ratio,
)

VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench-results"
LUA = ROOT / "bench" / "lua"
VENV_BIN = Path(sys.executable).parent

AUDIENCE = "https://timesheets.abcinc.example/api"
BATCH_CLIENT = "timesheets-batch"
MOBILE_CLIENT = "timesheets-mobile"
CALLBACK = "com.abcinc.timesheets://callback"
MOBILE_SCOPE = "openid profile offline_access read:timesheets"
API_USER = "alice@abcinc.example"
ADMIN_USER = "admin@abcinc.example"
DEMO_PEOPLE = 6  # seed_demo's people, besides the bulk users
PEER_CLIENT, PEER_SECRET = "bench", "benchsecret"  # the peer's fixed client (its README)
FORM = "application/x-www-form-urlencoded"
# Several worker processes write at once. SQLite's default (deferred) transactions fail with
# "database is locked" when two of them upgrade to writing; BEGIN IMMEDIATE and a busy
# timeout make writers queue instead. BENCH_SQLITE_OPTIONS="" runs SQLite's plain default.
SQLITE_OPTIONS = "transaction_mode=IMMEDIATE&timeout=20"

T0 = time.monotonic()


def log(message: str = "") -> None:
    print(f"[{time.monotonic() - T0:4.0f}s] {message}" if message else "", flush=True)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


@dataclass
class Config:
    seconds: int = 20
    connections: int = 16
    threads: int = 2
    workers: int = 5
    users: int = 10_000
    entries: int = 250
    peer: bool = True
    peer_dir: Path = ROOT.parent / "shared" / "bench" / "peer"
    only: set[str] = field(default_factory=set)
    timeout_s: int = 10

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            seconds=env_int("BENCH_SECONDS", 20),
            connections=env_int("BENCH_CONNECTIONS", 16),
            threads=env_int("BENCH_THREADS", 2),
            workers=env_int("BENCH_WORKERS", 2 * (os.cpu_count() or 2) + 1),
            users=env_int("BENCH_USERS", 10_000),
            entries=env_int("BENCH_ENTRIES", 250),
            peer=os.environ.get("BENCH_PEER", "1").strip().lower() not in {"0", "false", "no", "off"},
            peer_dir=Path(os.environ.get("BENCH_PEER_DIR") or ROOT.parent / "shared" / "bench" / "peer"),
            only={name.strip() for name in os.environ.get("BENCH_ONLY", "").split(",") if name.strip()},
        )

    def wants(self, name: str) -> bool:
        return not self.only or name in self.only


# --- Processes: everything started here is stopped here -----------------------------------


class Processes:
    """Children in sessions of their own, so that a whole tree (gunicorn and its workers,
    bash, npm and node) stops with one signal to its process group."""

    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen]] = []
        self.lock = threading.Lock()

    def _track(self, name: str, process: subprocess.Popen) -> None:
        with self.lock:
            self.started.append((name, process))

    def _forget(self, process: subprocess.Popen) -> None:
        with self.lock:
            self.started = [(n, p) for n, p in self.started if p is not process]

    def start(self, name: str, command: list[str], *, log_path: Path, **kwargs: Any) -> subprocess.Popen:
        with log_path.open("ab") as handle:
            process = subprocess.Popen(  # noqa: S603 - fixed commands, no shell
                command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
            )
        self._track(name, process)
        return process

    def run(self, name: str, command: list[str], *, timeout: float, **kwargs: Any) -> tuple[int, str]:
        """A short-lived child (wrk, a data step): its output; stopped with us if need be."""
        process = subprocess.Popen(  # noqa: S603 - fixed commands, no shell
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            **kwargs,
        )
        self._track(name, process)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(process)
            output = (process.communicate()[0] or "") + f"\n(stopped after {timeout:.0f} s)"
            return -1, output
        except BaseException:
            self.stop(process)
            raise
        finally:
            self._forget(process)
        return process.returncode, output

    @staticmethod
    def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
        if process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)  # its own group: started with start_new_session
            try:
                process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def stop_all(self) -> None:
        with self.lock:
            started, self.started = list(reversed(self.started)), []
        for name, process in started:
            if process.poll() is None:
                log(f"stopping {name} (pid {process.pid})")
            self.stop(process)


def raise_on_signal(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- HTTP, with the standard library ------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key.lower() == name.lower()), "")

    def cookies(self) -> dict[str, str]:
        found = {}
        for key, value in self.headers:
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                found[name.strip()] = rest.split(";", 1)[0]
        return found

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def snippet(self) -> str:
        return f"HTTP {self.status}: " + self.body[:160].decode("utf-8", "replace").replace("\n", " ")


def fetch(port: int, method: str, path: str, headers: dict[str, str] | None = None, body: str = "") -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body.encode() if body else None, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{quote(client_id)}:{quote(secret)}".encode()).decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], bool], *, timeout: float, process: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        with contextlib.suppress(OSError, http.client.HTTPException):
            if check():
                return True
        time.sleep(0.25)
    return False


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- CPU: quiet between scenarios, and how busy the machine is ----------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        with contextlib.suppress(OSError):
            queue.extend(
                int(child) for child in Path(f"/proc/{current}/task/{current}/children").read_text().split()
            )
    return pids


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def machine_busy(interval: float = 0.5) -> float:
    """Percent of all CPUs busy over ``interval``: whatever else runs on the machine."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(values), values[3] + values[4]  # idle + iowait

    try:
        total1, idle1 = sample()
        time.sleep(interval)
        total2, idle2 = sample()
    except (OSError, IndexError, ValueError):
        return 0.0
    return 100.0 * (1 - (idle2 - idle1) / max(total2 - total1, 1))


def wait_quiet(pid: int | None, *, timeout: float = 60.0) -> None:
    """Wait until a server's processes idle: requests wrk left queued must not spill over."""
    if pid is None:
        return
    deadline, calm = time.monotonic() + timeout, 0
    while calm < 2 and time.monotonic() < deadline:
        pids = process_tree(pid)
        before = cpu_ticks(pids)
        time.sleep(0.4)
        calm = calm + 1 if (cpu_ticks(pids) - before) / TICKS / 0.4 < 0.05 else 0


# --- Our server --------------------------------------------------------------------------


@dataclass
class Server:
    port: int
    env: dict[str, str]
    issuer: str
    password: str
    client_secret: str
    csrf_workaround: bool = False
    process: subprocess.Popen | None = None
    csrf_token: str = field(default_factory=lambda: secrets.token_hex(16))  # 32 characters

    # The TLS-terminating proxy's header: production settings trust it, so the request is
    # https: no redirect, secure cookies apply, CSRF checks the https origin.
    base_headers = {"X-Forwarded-Proto": "https"}

    def token_headers(self, content_type: str = FORM) -> dict[str, str]:
        headers = {**self.base_headers, "Content-Type": content_type}
        if self.csrf_workaround:
            # See bench/README.md: /oauth/token asks for CSRF proof; give it as a browser would.
            headers |= {
                "Origin": self.issuer,
                "Cookie": f"csrftoken={self.csrf_token}",
                "X-CSRFToken": self.csrf_token,
            }
        return headers

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, body: str = "") -> Reply:
        return fetch(self.port, method, path, {**self.base_headers, **(headers or {})}, body)


def bench_database() -> tuple[str, str]:
    """(DATABASE_URL of the bench server, a description); the database is made afresh."""
    given = os.environ.get("DATABASE_URL", "").strip()
    if given.startswith(("postgres://", "postgresql://", "pgsql://")):
        parts = urlsplit(given)
        name = os.environ.get("BENCH_DATABASE_NAME") or (parts.path.lstrip("/") or "abc_identity") + "_bench"
        if not re.fullmatch(r"[A-Za-z0-9_]+", name):
            raise SystemExit(f"bench: unusable database name {name!r}")
        import psycopg
        from psycopg import sql

        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return urlunsplit(parts._replace(path="/" + name)), f"postgresql, database {name} (recreated)"
    if given and not given.startswith("sqlite"):
        raise SystemExit("bench: DATABASE_URL must be PostgreSQL (or unset for SQLite)")
    path = VAR / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    options = os.environ.get("BENCH_SQLITE_OPTIONS", SQLITE_OPTIONS).strip()
    url = f"sqlite:///{path}" + (f"?{options}" if options else "")
    return url, f"sqlite {path.relative_to(ROOT)} (fresh; {options or 'default options'})"


def prepare_server(cfg: Config, processes: Processes, meta: dict[str, Any]) -> Server:
    """Fresh database, migrations, static files, demo and bulk data; then gunicorn."""
    port = free_port()
    issuer = f"https://127.0.0.1:{port}"
    url, meta["database"] = bench_database()
    inherited = {
        key: value for key, value in os.environ.items() if key not in {"PORT", "DJANGO_SETTINGS_MODULE"}
    }
    server = Server(
        port=port,
        issuer=issuer,
        password="Bench-" + secrets.token_urlsafe(12),
        client_secret=secrets.token_urlsafe(32),
        env=inherited
        | {
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1",
            # Production refuses an http issuer: TLS ends at a proxy (X-Forwarded-Proto).
            "OIDC_ISSUER": issuer,
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": url,
            # All load comes from one address (loopback) standing for many clients: the
            # per-address ceiling would answer 429 to the benchmark itself.
            "RATE_LIMIT_PER_IP": "0",
        },
    )
    meta["cache"] = "redis" if server.env.get("REDIS_URL") else "local memory (per worker)"
    python = [sys.executable]
    steps = [
        ("migrate", [*python, "manage.py", "migrate", "--noinput"]),
        ("collectstatic", [*python, "manage.py", "collectstatic", "--noinput"]),
        ("seed_demo", [*python, "manage.py", "seed_demo", "--password", server.password,
                       "--client-secret", server.client_secret]),
        ("load_data", [*python, "bench/load_data.py", "--users", str(cfg.users),
                       "--entries", str(cfg.entries), "--entries-for", API_USER]),
    ]  # fmt: skip
    for name, command in steps:
        started = time.monotonic()
        code, output = processes.run(name, command, timeout=600, cwd=ROOT, env=server.env)
        with (VAR / "setup.log").open("a") as setup_log:
            setup_log.write(f"== {name}\n{output}\n")
        meta.setdefault("setup_seconds", {})[name] = round(time.monotonic() - started, 1)
        if code != 0:
            raise SystemExit(f"bench: {name} failed (exit {code}):\n{output[-2000:]}")
        summary = next((line for line in output.splitlines() if line.startswith("bench data:")), "")
        log(f"  {name:<14} {time.monotonic() - started:5.1f} s  {summary}")

    command = [str(VENV_BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
               "--workers", str(cfg.workers), "--log-level", "warning"]  # fmt: skip
    server.process = processes.start(
        "gunicorn", command, log_path=VAR / "gunicorn.log", cwd=ROOT, env=server.env
    )
    ready = wait_for(
        lambda: server.request("GET", "/.well-known/openid-configuration").status == 200,
        timeout=60,
        process=server.process,
    )
    if not ready:
        raise SystemExit(f"bench: gunicorn did not become ready:\n{tail(VAR / 'gunicorn.log')}")
    return server


# --- Credentials made before the runs ------------------------------------------------------


def login(server: Server, email: str) -> str:
    """Sign in through /login/ as a browser does; the session's Cookie header."""
    page = server.request("GET", "/login/")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    csrf = page.cookies().get("csrftoken", "")
    if page.status != 200 or not match or not csrf:
        raise RuntimeError(f"login page: {page.snippet()}")
    form = {"username": email, "password": server.password, "csrfmiddlewaretoken": match.group(1).decode()}
    headers = {"Content-Type": FORM, "Cookie": f"csrftoken={csrf}", "Origin": server.issuer}
    reply = server.request(
        "POST", "/login/", headers | {"Referer": server.issuer + "/login/"}, urlencode(form)
    )
    session = reply.cookies().get("sessionid")
    if reply.status != 302 or not session:
        raise RuntimeError(f"login as {email}: {reply.snippet()}")
    return f"sessionid={session}; csrftoken={csrf}"


def mint_code(server: Server, session_cookie: str) -> tuple[str, str]:
    """One authorization code from /authorize (a first-party app: no consent screen)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": MOBILE_CLIENT,
        "redirect_uri": CALLBACK,
        "scope": MOBILE_SCOPE,
        "audience": AUDIENCE,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": secrets.token_urlsafe(12),
        "nonce": secrets.token_urlsafe(12),
    }
    reply = server.request("GET", "/authorize?" + urlencode(query), {"Cookie": session_cookie})
    code = parse_qs(urlsplit(reply.header("Location")).query).get("code", [""])[0]
    if reply.status != 302 or not code:
        raise RuntimeError(f"/authorize gave no code: {reply.snippet()} {reply.header('Location')[:120]}")
    return code, verifier


def mint_codes(server: Server, session_cookie: str, count: int, parallel: int) -> list[tuple[str, str]]:
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(lambda _: mint_code(server, session_cookie), range(count)))


def exchange_body(code: str, verifier: str) -> str:
    return urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": MOBILE_CLIENT,
            "code_verifier": verifier,
        }
    )


def exchange(server: Server, code: str, verifier: str) -> dict[str, Any]:
    reply = server.request("POST", "/oauth/token", server.token_headers(), exchange_body(code, verifier))
    if reply.status != 200 or "refresh_token" not in reply.json():
        raise RuntimeError(f"code exchange: {reply.snippet()}")
    return reply.json()


def extend_codes(processes: Processes, server: Server, seconds: int) -> None:
    """Move the minted codes' expiry (the bench's own database; see bench/README.md)."""
    command = [
        sys.executable,
        "bench/load_data.py",
        "--users",
        "0",
        "--entries",
        "0",
        "--extend-grants",
        str(seconds),
    ]
    code, output = processes.run("extend codes", command, timeout=120, cwd=ROOT, env=server.env)
    if code != 0:
        raise RuntimeError("extending code lifetimes failed: " + output[-500:])


# --- Scenarios and wrk ---------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    what: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    script: str = "static.lua"
    target: str = "ours"
    extra: dict[str, Any] = field(default_factory=dict)

    def spec(self, threads: int) -> dict[str, Any]:
        spec = {"method": self.method, "path": self.path, "headers": self.headers, "threads": threads}
        return spec | ({"body": self.body} if self.body else {}) | self.extra


def run_wrk(
    cfg: Config, processes: Processes, port: int, scenario: Scenario, seconds: float, label: str = ""
) -> WrkResult:
    label = label or scenario.name
    spec_path = VAR / f"spec-{label}.lua"
    spec_path.write_text(lua_spec(scenario.spec(cfg.threads)))
    spec_path.chmod(0o600)  # it holds secrets, tokens and cookies
    command = [
        "wrk", f"-t{cfg.threads}", f"-c{cfg.connections}", f"-d{max(seconds, 1):g}s",
        f"--timeout={cfg.timeout_s}s", "--latency", "-s", str(LUA / scenario.script),
        f"http://127.0.0.1:{port}", "--", str(spec_path),
    ]  # fmt: skip
    code, output = processes.run(f"wrk {label}", command, timeout=seconds + 60)
    (VAR / f"wrk-{label}.txt").write_text(output)
    if code != 0 and "BENCH_JSON" not in output:
        raise RuntimeError(f"wrk failed (exit {code}): {output[-300:]}")
    return parse_wrk(output)


def warm(count: int, send: Callable[[], Reply]) -> Reply:
    """``count`` requests, 8 at a time so that every worker serves some; the last reply."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda _: send(), range(count)))[-1]


def our_scenarios(cfg: Config, server: Server) -> list[Scenario]:
    batch = {"Authorization": basic(BATCH_CLIENT, server.client_secret)}
    cc = {"grant_type": "client_credentials", "audience": AUDIENCE}
    return [
        Scenario("discovery", "GET /.well-known/openid-configuration: no auth, no database (baseline)",
                 "GET", "/.well-known/openid-configuration"),
        Scenario("jwks", "GET /.well-known/jwks.json: no auth, reads the signing-key table", "GET",
                 "/.well-known/jwks.json"),
        Scenario("api_get", f"GET /api/timesheets, Bearer RS256 JWT (alice: 50 of {cfg.entries} entries)",
                 "GET", "/api/timesheets"),
        Scenario("dashboard_users", f"GET /dashboard/users/ as admin, {cfg.users + DEMO_PEOPLE:,} users",
                 "GET", "/dashboard/users/"),
        Scenario("cc_form", "client_credentials, form body, Basic (timesheets-batch)", "POST", "/oauth/token",
                 batch | {"Content-Type": FORM}, urlencode(cc)),
        Scenario("cc_json", "client_credentials, JSON body, Basic (timesheets-batch)", "POST", "/oauth/token",
                 batch | {"Content-Type": "application/json"}, json.dumps(cc)),
        Scenario("refresh_rotation", "refresh_token grant with rotation, each token used once", "POST",
                 "/oauth/token", {"Content-Type": FORM}, script="refresh.lua"),
        Scenario("authcode_pkce", "authorization_code + PKCE exchange, codes minted before the run", "POST",
                 "/oauth/token", {"Content-Type": FORM}, script="once.lua"),
    ]  # fmt: skip


class Bench:
    """One run: the scenarios in order, their results, the document written at the end."""

    def __init__(self, cfg: Config, processes: Processes) -> None:
        self.cfg = cfg
        self.processes = processes
        self.rows: list[dict[str, Any]] = []
        self.results: dict[str, dict[str, Any]] = {}
        self.measured: dict[str, WrkResult] = {}
        self.started_at = datetime.now(UTC)
        version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
        self.meta: dict[str, Any] = {
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "loadavg_before": [round(value, 2) for value in os.getloadavg()],
                "python": platform.python_version(),
                "wrk": (version.stdout or version.stderr).splitlines()[0].strip(),
            },
            "config": {
                "seconds": cfg.seconds,
                "connections": cfg.connections,
                "wrk_threads": cfg.threads,
                "gunicorn_workers": cfg.workers,
                "users_added": cfg.users,
                "entries_added": cfg.entries,
                "rate_limit_per_ip": 0,
            },
            "checks": {},
        }

    def skip(self, scenario: Scenario, reason: str) -> None:
        log(f"  {scenario.name:<17} skipped: {reason}")
        self.rows.append({"name": scenario.name, "skipped": reason})
        self.results[scenario.name] = {"target": scenario.target, "what": scenario.what, "skipped": reason}

    def measure(self, scenario: Scenario, port: int, pid: int | None, **extra: Any) -> WrkResult:
        wait_quiet(pid)
        busy = machine_busy()
        result = run_wrk(self.cfg, self.processes, port, scenario, self.cfg.seconds)
        self.measured[scenario.name] = result
        note = f"others busy {busy:.0f}% before" if busy > 25 else ""
        self.rows.append({"name": scenario.name, "result": result, "note": note})
        self.results[scenario.name] = {
            "target": scenario.target,
            "what": scenario.what,
            "request": f"{scenario.method} {scenario.path}",
            "cpu_busy_before_pct": round(busy, 1),
            "result": result.as_dict(),
            **extra,
        }
        log(
            f"  {scenario.name:<17} {result.rps:9.1f} req/s  p50 {result.p50_ms or 0:8.2f} ms  "
            f"p99 {result.p99_ms or 0:8.2f} ms  non-2xx {result.non2xx}  "
            f"socket errors {result.socket_error_count}"
            + (f"  ran out x{result.starved}" if result.starved else "")
            + (f"  ({note})" if note else "")
        )
        wait_quiet(pid)
        return result

    def ratios(self) -> dict[str, dict[str, Any]]:
        def item(what: str, numerator: str, denominator: str) -> dict[str, Any]:
            value = ratio(ok_rps(self.measured.get(numerator)), ok_rps(self.measured.get(denominator)))
            return {"value": None if value is None else round(value, 4), "what": what}

        return {
            "cc_form / peer_cc_form": item(
                "our client_credentials issuance / the peer's", "cc_form", "peer_cc_form"
            ),
            "cc_json / peer_cc_form": item("the same with our JSON body", "cc_json", "peer_cc_form"),
            "api_get / discovery": item(
                "authenticated GET / unauthenticated baseline (no DB)", "api_get", "discovery"
            ),
            "api_get / jwks": item("authenticated GET / GET jwks.json (no auth, DB)", "api_get", "jwks"),
        }

    def write(self) -> Path:
        finished = datetime.now(UTC)
        document = {
            **self.meta,
            "finished_at": finished.isoformat(timespec="seconds"),
            "elapsed_seconds": round((finished - self.started_at).total_seconds(), 1),
            "scenarios": self.results,
            "ratios": self.ratios(),
        }
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"result-{self.started_at:%Y%m%d-%H%M%S}.json"
        out.write_text(json.dumps(document, indent=2) + "\n")
        return out


def start_peer(
    cfg: Config, processes: Processes, meta: dict[str, Any]
) -> tuple[int, subprocess.Popen] | None:
    run_sh = cfg.peer_dir / "run.sh"
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if not cfg.peer or missing or not run_sh.exists():
        reason = "BENCH_PEER=0" if not cfg.peer else f"missing {', '.join(missing) or run_sh}"
        meta["peer"] = f"skipped: {reason}"
        return None
    port = free_port()
    # Its npm dependencies go under var/bench (untracked), never into a repository.
    env = os.environ | {
        "PORT": str(port),
        "ALG": "RS256",
        "FORMAT": "jwt",
        "PEER_CACHE": str(VAR / "peer-cache"),
    }
    return port, processes.start("peer", ["bash", str(run_sh)], log_path=VAR / "peer.log", env=env)


def peer_ready(
    peer: tuple[int, subprocess.Popen] | None, meta: dict[str, Any], headers: dict, body: str
) -> bool:
    if peer is None:
        return False
    port, process = peer

    def token_ok() -> bool:
        reply = fetch(port, "POST", "/token", headers, body)
        return reply.status == 200 and reply.json().get("access_token", "").count(".") == 2

    # The first run installs oidc-provider with npm; later runs reuse var/bench/peer-cache.
    if wait_for(token_ok, timeout=240, process=process):
        node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
        meta["peer"] = f"panva oidc-provider 9.13.3 on node {node.stdout.strip()}, RS256 JWT, one process"
        return True
    meta["peer"] = "skipped: did not start: " + tail(VAR / "peer.log", 3).replace("\n", " | ")
    return False


def main() -> int:
    cfg = Config.from_env()
    processes = Processes()
    # SIGINT too: a shell starts background jobs with it ignored, and Python keeps that.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, raise_on_signal)
    try:
        return run(cfg, processes)
    except KeyboardInterrupt:
        log("bench: interrupted; stopping what it started")
        return 130
    finally:
        processes.stop_all()


def run(cfg: Config, processes: Processes) -> int:
    if shutil.which("wrk") is None:
        log("bench: wrk is missing (Debian: apt-get install wrk; `make bench` does it when it can).")
        return 2
    VAR.mkdir(parents=True, exist_ok=True)
    for stale in [
        *VAR.glob("spec-*.lua"),
        *VAR.glob("wrk-*.txt"),
        *VAR.glob("codes-*.txt"),
        *VAR.glob("*.log"),
    ]:
        stale.unlink()
    bench = Bench(cfg, processes)
    meta, checks = bench.meta, bench.meta["checks"]
    log(
        f"bench: {cfg.seconds} s per scenario; wrk {cfg.threads} threads, {cfg.connections} connections; "
        f"gunicorn {cfg.workers} sync workers; logs in {VAR.relative_to(ROOT)}/"
    )
    load = meta["machine"]["loadavg_before"][0]
    if load > 0.5 * (os.cpu_count() or 1):
        log(f"note: the machine is busy already (load average {load}); the numbers will be low")

    peer = start_peer(cfg, processes, meta)  # its npm install (first run) overlaps our set-up
    log("set-up")
    server = prepare_server(cfg, processes, meta)
    meta["config"] |= {"database": meta.pop("database"), "cache": meta.pop("cache")}
    log(f"  gunicorn       127.0.0.1:{server.port}; {meta['config']['database']}")
    log(f"                 cache: {meta['config']['cache']}")
    pid = server.process.pid
    # Every worker imports, compiles templates and fills its caches before anything counts.
    warmup = Scenario("warmup", "", "GET", "/.well-known/openid-configuration", dict(server.base_headers))
    run_wrk(cfg, processes, server.port, warmup, 2)

    # A token client is not a browser: a plain request (no cookie, no Origin) must get a token.
    plain = server.request("POST", "/oauth/token",
                           {"Content-Type": FORM, "Authorization": basic(BATCH_CLIENT, server.client_secret)},
                           urlencode({"grant_type": "client_credentials", "audience": AUDIENCE}))  # fmt: skip
    checks["plain_client_gets_token"] = plain.status == 200
    if plain.status == 403 and b"CSRF" in plain.body:
        server.csrf_workaround = True
        log("  WARNING: /oauth/token answers a plain client with a CSRF 403 (a bug). The bench sends")
        log("           Origin, a csrftoken cookie and X-CSRFToken to get past it: see bench/README.md.")
    elif plain.status != 200:
        log(f"  WARNING: a plain client_credentials request failed: {plain.snippet()}")
    checks["csrf_workaround_used"] = server.csrf_workaround

    sessions: dict[str, str] = {}
    for email in (API_USER, ADMIN_USER):
        try:
            sessions[email] = login(server, email)
            checks[f"login {email}"] = "ok"
        except RuntimeError as error:
            checks[f"login {email}"] = str(error)
    parallel = min(2 * cfg.workers, 16)
    api_token, refresh_tokens = None, []
    if API_USER in sessions and (cfg.wants("api_get") or cfg.wants("refresh_rotation")):
        try:
            codes = mint_codes(server, sessions[API_USER], 1 + 16 * cfg.threads, parallel)
            with ThreadPoolExecutor(max_workers=parallel) as pool:
                minted = list(pool.map(lambda item: exchange(server, *item), codes))
            api_token, refresh_tokens = minted[0]["access_token"], [m["refresh_token"] for m in minted[1:]]
        except RuntimeError as error:
            checks["mint tokens"] = str(error)

    log("scenarios")
    for scenario in our_scenarios(cfg, server):
        if not cfg.wants(scenario.name):
            continue
        scenario.headers = (
            server.token_headers() if scenario.method == "POST" else dict(server.base_headers)
        ) | (scenario.headers)
        try:
            if scenario.name == "api_get":
                if api_token is None:
                    bench.skip(scenario, "no access token (see checks in the result file)")
                    continue
                scenario.headers["Authorization"] = f"Bearer {api_token}"
            if scenario.name == "dashboard_users":
                if ADMIN_USER not in sessions:
                    bench.skip(scenario, "admin login failed")
                    continue
                scenario.headers["Cookie"] = sessions[ADMIN_USER]
            if scenario.name == "refresh_rotation":
                if len(refresh_tokens) < cfg.connections + cfg.threads:
                    bench.skip(scenario, "no refresh tokens (see checks in the result file)")
                    continue
                scenario.extra = {
                    "tokens": refresh_tokens,  # DOT's tokens are letters and digits: no escaping
                    "prefix": "grant_type=refresh_token&refresh_token=",
                    "suffix": "&" + urlencode({"client_id": MOBILE_CLIENT}),
                }
                bench.measure(scenario, server.port, pid, minted_tokens=len(refresh_tokens))
                continue
            if scenario.name == "authcode_pkce":
                if API_USER not in sessions:
                    bench.skip(scenario, "alice's login failed")
                    continue
                authcode(bench, server, sessions[API_USER], scenario, parallel)
                continue
            reply = warm(
                2 * cfg.workers, lambda s=scenario: server.request(s.method, s.path, s.headers, s.body)
            )
            checks[scenario.name] = reply.status
            if reply.status != 200:
                bench.skip(scenario, f"a single request fails: {reply.snippet()}")
                continue
            bench.measure(scenario, server.port, pid)
        except RuntimeError as error:
            bench.skip(scenario, str(error))

    peer_headers = {"Authorization": basic(PEER_CLIENT, PEER_SECRET), "Content-Type": FORM}
    peer_scenario = Scenario("peer_cc_form", "the peer: client_credentials, form body, Basic, RS256 JWT",
                             "POST", "/token", peer_headers, "grant_type=client_credentials&scope=read",
                             target="peer")  # fmt: skip
    if cfg.wants("peer_cc_form") or cfg.wants("cc_form"):
        if peer_ready(peer, meta, peer_headers, peer_scenario.body):
            port, process = peer
            warm(16, lambda: fetch(port, "POST", "/token", peer_headers, peer_scenario.body))
            bench.measure(peer_scenario, port, process.pid)
        else:
            bench.skip(peer_scenario, meta["peer"].removeprefix("skipped: "))
        log(f"  peer: {meta['peer']}")

    out = bench.write()
    print()
    print(format_table(bench.rows))
    print()
    print("ratios of 2xx responses per second:")
    print(format_ratios(bench.ratios()))
    print()
    log(f"wrote {out.relative_to(ROOT)}")
    return 0


def authcode(bench: Bench, server: Server, session: str, scenario: Scenario, parallel: int) -> None:
    """Codes are single-use: mint enough for the whole run through /authorize, then spend.

    The count comes from the refresh scenario's rate (a similar amount of work: new access,
    ID and refresh tokens) or, without it, from a one-second calibration run; 1.5 times that
    rate for the run's length. The table says so if the run ran out all the same.
    """
    cfg, processes = bench.cfg, bench.processes
    for code, verifier in mint_codes(server, session, 2 * cfg.workers, parallel):
        exchange(server, code, verifier)  # warm the exchange path in the workers
    reference = bench.measured.get("refresh_rotation")
    if reference is not None and reference.ok and not reference.starved:
        estimate, basis = ok_rps(reference) or 0.0, "refresh_rotation's rate"
    else:
        probe_codes = mint_codes(server, session, codes_needed(200, 1, cfg.connections), parallel)
        extend_codes(processes, server, 600)
        probe = replace(scenario, extra=_code_spec(probe_codes, "calibration"))
        wait_quiet(server.process.pid)
        calibration = run_wrk(cfg, processes, server.port, probe, 1, label="authcode_calibration")
        estimate = (ok_rps(calibration) or 0.0) * (2 if calibration.starved else 1)
        basis = "a 1 s calibration run"
    needed = codes_needed(estimate, cfg.seconds, cfg.connections)
    started = time.monotonic()
    codes = mint_codes(server, session, needed, parallel)
    minted_in = time.monotonic() - started
    log(f"  authcode_pkce     minted {needed} codes in {minted_in:.0f} s (from {basis}, {estimate:.0f}/s)")
    # Codes live 60 s; minting this many can take longer than that before the run ends.
    extend_codes(processes, server, 600 + cfg.seconds)
    scenario.extra = _code_spec(codes, scenario.name)
    bench.measure(
        scenario, server.port, server.process.pid, minted_codes=needed, minting_seconds=round(minted_in, 1)
    )


def _code_spec(codes: list[tuple[str, str]], label: str) -> dict[str, Any]:
    """once.lua's spec: the request bodies in a file, one a line (a Lua table literal of
    tens of thousands of strings would exceed LuaJIT's constants per chunk)."""
    path = VAR / f"codes-{label}.txt"
    path.write_text("".join(exchange_body(code, verifier) + "\n" for code, verifier in codes))
    path.chmod(0o600)
    return {
        "bodies_file": str(path),
        "exhausted_body": exchange_body("exhausted-" + secrets.token_hex(8), "x" * 43),
    }


if __name__ == "__main__":
    raise SystemExit(main())
