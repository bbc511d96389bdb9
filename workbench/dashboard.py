"""Dashboard tiles: each app contributes its counts without the workbench importing it.

An app may implement the ``dashboard_tiles(tenant) -> list[Tile]`` extension point; the
dashboard shows the tiles of every installed app in INSTALLED_APPS order.
"""

from dataclasses import dataclass

from workbench import extension_points


@dataclass(frozen=True)
class Tile:
    label: str
    value: int | str
    url: str = ""
    hint: str = ""


def tiles_for(tenant) -> list[Tile]:
    """Return the dashboard tiles of every app for ``tenant``."""
    return [tile for tiles in extension_points.collect("dashboard_tiles", tenant) for tile in tiles]
