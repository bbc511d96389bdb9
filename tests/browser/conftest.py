"""Browser-test helpers: the axe-core accessibility check (screenshots: tests/conftest.py)."""

from functools import cache
from pathlib import Path

import pytest
from django.conf import settings

AXE_SOURCE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# Impacts that fail the check; "moderate" and "minor" findings are reported, not failed.
FAILING_IMPACTS = ("serious", "critical")


@cache
def _axe_source() -> str:
    return AXE_SOURCE.read_text(encoding="utf-8")


@pytest.fixture
def axe():
    """``axe(page)`` runs axe-core on the page and returns its violations (axe's result objects).

    axe-core comes from the npm registry (package-lock.json, `make install-test`); it is read from
    node_modules and injected with ``page.evaluate``, which Chromium runs through the DevTools
    protocol, outside the page's Content-Security-Policy: a <script> tag would be refused by the
    app's strict policy, and the page itself is left exactly as served.
    """
    if not AXE_SOURCE.exists():
        pytest.skip(
            "node_modules/axe-core is not installed (run `make install-test`, which runs npm ci)"
        )

    def run(page) -> list[dict]:
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(_axe_source())
        return page.evaluate(
            """async () => {
              const results = await axe.run(document, {
                resultTypes: ["violations"],
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                "wcag22aa", "best-practice"]},
              });
              return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), impact: n.impact,
                                          summary: n.failureSummary})),
              }));
            }"""
        )

    return run


def describe_violations(found: dict[str, list[dict]]) -> str:
    """Readable lines per page and rule, each with the elements that failed (up to five)."""
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}")
            for node in v["nodes"][:5]:
                lines.append(f"    {node['target']}: {(node['summary'] or '').splitlines()[-1]}")
    return "\n".join(lines)
