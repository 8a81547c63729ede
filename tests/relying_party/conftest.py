"""Certified relying-party libraries (panva's openid-client and jose, from npm) driving the
server end to end: each test writes a small ES module and runs it with Node against
``live_server``, whose URL becomes the issuer so that discovery validates as it would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest

NODE_MODULES = Path(__file__).resolve().parents[2] / ".cache" / "node" / "node_modules"


def _missing(reason: str) -> NoReturn:
    if os.environ.get("REQUIRE_TOOLCHAINS"):
        pytest.fail(f"{reason}, and REQUIRE_TOOLCHAINS is set")
    pytest.skip(reason)


@pytest.fixture
def live_issuer(live_server, settings) -> str:
    """The live server as the issuer (``iss``, discovery, the token endpoint's audience)."""
    settings.OIDC_ISSUER = live_server.url
    # The token endpoint writes its events and counts after the response; on the live
    # server's shared SQLite database that write can lock out the client's very next request
    # (a JWKS fetch answered 503, seen under load). Nothing here reads them: keep them.
    settings.TOKEN_STATS_FLUSH_SECONDS = 3600
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": live_server.url}
    return live_server.url


@pytest.fixture
def run_node(tmp_path) -> Callable[..., Any]:
    """``run_node(source, **env)``: run ``source`` as an ES module with openid-client and jose
    importable; its last stdout line is parsed as JSON and returned. A failing script fails
    the test with its stderr."""
    node = shutil.which("node")
    if node is None:
        _missing("node is not installed")
    if not (NODE_MODULES / "openid-client").exists():
        _missing(f"{NODE_MODULES} has no openid-client: `make node-deps` installs it")
    (tmp_path / "node_modules").symlink_to(NODE_MODULES)

    def run(source: str, **env: str) -> Any:
        script = tmp_path / "script.mjs"
        script.write_text(source)
        result = subprocess.run(
            [node, str(script)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **env},
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr or result.stdout
        return json.loads(result.stdout.strip().splitlines()[-1])

    return run
