"""Dashboard tiles: each app contributes its counts without the workbench importing it.

An app's ``AppConfig`` may define ``dashboard_tiles(tenant) -> list[Tile]``; the dashboard shows
the tiles of every installed app in INSTALLED_APPS order.
"""

from dataclasses import dataclass

from django.apps import apps


@dataclass(frozen=True)
class Tile:
    label: str
    value: int | str
    url: str = ""
    hint: str = ""


def tiles_for(tenant) -> list[Tile]:
    """Return the dashboard tiles of every app for ``tenant``."""
    tiles: list[Tile] = []
    for config in apps.get_app_configs():
        provider = getattr(config, "dashboard_tiles", None)
        if provider is not None:
            tiles.extend(provider(tenant))
    return tiles
