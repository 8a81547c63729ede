"""Credentials made before the measured runs: sessions, access and refresh tokens, single-use codes.

Everything goes through the real endpoints (/login/, /authorize, /oauth/token), as a browser
and an app would; bench/README.md says how many and why.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import secrets
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from bench.client import basic
from bench.options import (
    ADMIN_USER,
    API_USER,
    AUDIENCE,
    BATCH_CLIENT,
    CALLBACK,
    FORM,
    MOBILE_CLIENT,
    MOBILE_SCOPE,
    ROOT,
    VAR,
    Config,
)
from bench.processes import Processes
from bench.scenarios import Credential, SkipScenario
from bench.server import Server


@dataclass
class Credentials:
    client_secret: str  # the batch client's, generated for the run
    sessions: dict[str, str] = field(default_factory=dict)  # email -> Cookie header
    api_token: str | None = None
    refresh_tokens: list[str] = field(default_factory=list)

    def headers(self, kind: Credential) -> dict[str, str]:
        """The headers that carry a scenario's credential; SkipScenario when there is none."""
        if kind == "batch_basic":
            return {"Authorization": basic(BATCH_CLIENT, self.client_secret)}
        if kind == "bearer":
            if self.api_token is None:
                raise SkipScenario("no access token (see checks in the result file)")
            return {"Authorization": f"Bearer {self.api_token}"}
        if kind == "admin_session":
            if ADMIN_USER not in self.sessions:
                raise SkipScenario("admin login failed")
            return {"Cookie": self.sessions[ADMIN_USER]}
        return {}


def credentials_prepare(cfg: Config, server: Server, checks: dict[str, Any]) -> Credentials:
    """Sign alice and admin in; for the scenarios that need them, alice's access and refresh tokens."""
    credentials = Credentials(client_secret=server.client_secret)
    for email in (API_USER, ADMIN_USER):
        try:
            credentials.sessions[email] = login(server, email)
            checks[f"login {email}"] = "ok"
        except RuntimeError as error:
            checks[f"login {email}"] = str(error)
    if API_USER not in credentials.sessions or not (cfg.wants("api_get") or cfg.wants("refresh_rotation")):
        return credentials
    try:
        # One access token for api_get; 16 refresh tokens per wrk thread for refresh_rotation.
        codes = mint_codes(server, credentials.sessions[API_USER], 1 + 16 * cfg.threads, cfg.parallel)
        with ThreadPoolExecutor(max_workers=cfg.parallel) as pool:
            minted = list(pool.map(lambda item: exchange(server, *item), codes))
    except RuntimeError as error:
        checks["mint tokens"] = str(error)
        return credentials
    credentials.api_token = minted[0]["access_token"]
    credentials.refresh_tokens = [item["refresh_token"] for item in minted[1:]]
    return credentials


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
    command = [sys.executable, "bench/load_data.py", "--users", "0", "--entries", "0",
               "--extend-grants", str(seconds)]  # fmt: skip
    code, output = processes.run("extend codes", command, timeout=120, cwd=ROOT, env=server.env)
    if code != 0:
        raise RuntimeError("extending code lifetimes failed: " + output[-500:])


def codes_needed(rate_per_s: float, seconds: float, connections: int, *, margin: float = 1.5) -> int:
    """How many single-use credentials a run of ``seconds`` may consume, with headroom.

    ``rate_per_s`` is an upper bound of the rate (measured earlier in the run); each
    connection also holds one request in flight when the run ends.
    """
    return max(math.ceil(rate_per_s * seconds * margin) + 2 * connections, 4 * connections)


def code_spec(codes: list[tuple[str, str]], label: str) -> dict[str, Any]:
    """once.lua's spec: the request bodies in a file, one a line (a Lua table literal of
    tens of thousands of strings would exceed LuaJIT's constants per chunk)."""
    path = VAR / f"codes-{label}.txt"
    path.write_text("".join(exchange_body(code, verifier) + "\n" for code, verifier in codes))
    path.chmod(0o600)  # the codes are live credentials until the run spends them
    return {
        "bodies_file": str(path),
        "exhausted_body": exchange_body("exhausted-" + secrets.token_hex(8), "x" * 43),
    }
