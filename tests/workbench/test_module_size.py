"""No app module grows past 500 lines unless its first line says why (``# Over 500 lines: …``).

A module that long usually holds two concerns; split it where a seam is real, or say in one line
why it stays whole. Migrations, tests and benchmarks are not app modules.
"""

from pathlib import Path

from django.apps import apps
from django.conf import settings

LIMIT = 500
MARKER = "# Over 500 lines: "


def app_modules():
    """Every Python module of a project app, migrations left out (installed packages, even in a
    virtualenv inside the checkout, are not project apps: a project app sits at its top level)."""
    for config in apps.get_app_configs():
        root = Path(config.path)
        if root.parent != Path(settings.BASE_DIR):
            continue
        for path in sorted(root.rglob("*.py")):
            if "migrations" not in path.relative_to(root).parts:
                yield path


def lines_and_first(path: Path) -> tuple[int, str]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    return len(lines), lines[0] if lines else ""


def test_an_app_module_over_500_lines_says_why_on_its_first_line():
    unexplained = []
    for path in app_modules():
        count, first = lines_and_first(path)
        reason = first[len(MARKER) :].strip() if first.startswith(MARKER) else ""
        if count > LIMIT and not reason:
            unexplained.append(f"{path.relative_to(settings.BASE_DIR)} ({count} lines)")
    assert not unexplained, (
        f"split these where a seam is real, or start them with '{MARKER}<why>': "
        + ", ".join(unexplained)
    )


def test_a_module_under_the_limit_carries_no_stale_reason():
    stale = [
        str(path.relative_to(settings.BASE_DIR))
        for path in app_modules()
        if lines_and_first(path)[1].startswith(MARKER) and lines_and_first(path)[0] <= LIMIT
    ]
    assert not stale, "under 500 lines now, drop the reason: " + ", ".join(stale)


def test_the_walk_finds_the_apps_modules():
    found = {str(p.relative_to(settings.BASE_DIR)) for p in app_modules()}
    assert "classification/review/services/actions.py" in found
    assert not any("/migrations/" in p for p in found)
