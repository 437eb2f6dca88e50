"""axe-core (vendored from npm by `make assets`: tests/browser/vendor/axe.min.js) run in the
page. It is evaluated through the DevTools protocol, so the site's CSP needs no exception."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
FAILING = {"serious", "critical"}


def violations(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate(
        """async () => {
            const r = await window.axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return list(result)


def assert_accessible(page: Any) -> None:
    """No serious or critical axe violation on the page as it is now."""
    bad = [v for v in violations(page) if v["impact"] in FAILING]
    assert bad == [], f"{page.url}: {bad}"
