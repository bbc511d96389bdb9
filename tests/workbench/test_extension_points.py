"""Every hook an app defines on its AppConfig is a declared extension point, and matches it."""

import inspect
import pathlib

import pytest
from django.apps import AppConfig, apps

from workbench import extension_points

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROJECT_APPS = [c for c in apps.get_app_configs() if pathlib.Path(c.path).parent == ROOT]
APP_DIRS = sorted(pathlib.Path(c.path).name for c in PROJECT_APPS)


def _hooks(config: AppConfig) -> set[str]:
    """Public methods an app's config adds to Django's AppConfig."""
    return {
        name
        for name in vars(type(config))
        if not name.startswith("_")
        and callable(getattr(config, name))
        and name not in dir(AppConfig)
    }


def test_every_hook_an_app_config_defines_is_declared():
    assert {"catalog", "classification", "workbench"} <= set(APP_DIRS)
    undeclared = {
        f"{config.label}.{name}"
        for config in PROJECT_APPS
        for name in _hooks(config)
        if name not in extension_points.POINTS
    }
    assert undeclared == set()


@pytest.mark.parametrize("name", sorted(extension_points.POINTS))
def test_each_implementer_matches_the_declared_signature(name):
    point = extension_points.point(name)
    declared = [(p.name, p.kind) for p in point.signature.parameters.values()]
    for config, method in extension_points.implementers(name):
        found = [(p.name, p.kind) for p in inspect.signature(method).parameters.values()]
        assert found == declared, f"{config.label}.{name}"
    assert (
        point.doc and point.runs and point.called in (extension_points.ALL, extension_points.FIRST)
    )


def test_every_declared_point_has_an_implementer():
    unused = {name for name in extension_points.POINTS if not extension_points.implementers(name)}
    assert unused == set()


def test_a_first_point_has_at_most_one_implementer():
    for name, point in extension_points.POINTS.items():
        if point.called == extension_points.FIRST:
            assert len(extension_points.implementers(name)) <= 1, name


def test_an_undeclared_name_is_refused():
    with pytest.raises(LookupError, match="not a declared extension point"):
        extension_points.implementers("on_something_else")


def test_apps_find_hooks_only_through_the_declarations():
    """No app module walks the app configs itself (the one loop is ``extension_points``')."""
    walkers = [
        str(path.relative_to(ROOT))
        for app in APP_DIRS
        for path in (ROOT / app).rglob("*.py")
        if "get_app_configs()" in path.read_text()
        and path != ROOT / "workbench" / "extension_points.py"
    ]
    assert walkers == []
