"""Real Chromium (Debian's package) driven by Playwright against ``live_server``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

# Assertions wait as long as actions do: CI runs its two passes side by side, and a loaded
# machine can take longer than Playwright's 5 s default to answer an htmx request.
expect.set_options(timeout=10_000)


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


# axe-core (npm), installed by `make test` beside the virtualenv and never committed.
AXE = Path(__file__).resolve().parents[2] / ".cache/axe/node_modules/axe-core/axe.min.js"
AXE_BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        message = f"{AXE} is missing: `make test` installs axe-core with npm where it can."
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


@pytest.fixture
def axe(axe_source):
    """``axe(page)``: the serious and critical axe-core violations on the page as it stands.

    ``page.evaluate`` runs through the DevTools protocol, outside the page's CSP, so the
    audit needs no inline script and the CSP stays as strict as in production. Each
    violation is a readable line: rule, impact, what it means, and the first offenders.
    """

    def audit(page) -> list[str]:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source)
        results = page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations']})"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' — ' + n.failureSummary)})))"
        )
        return [
            f"{v['id']} ({v['impact']}): {v['help']} @ " + " | ".join(v["nodes"])
            for v in results
            if v["impact"] in AXE_BLOCKING
        ]

    return audit
