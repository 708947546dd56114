"""Finding the kinds of portal the robot can drive: the entry points of `onboard.portals`.

The robot's core never names a portal: a kind is a name in the settings (PORTAL_KIND) or on
the command line (`--kind`), looked up here among the installed portal packages.
"""

from __future__ import annotations

import os
from functools import cache
from importlib.metadata import entry_points

from domain.errors import SetupError
from domain.portal import ENTRY_POINT_GROUP, PortalKind


@cache
def kind_names() -> tuple[str, ...]:
    """The names of every installed portal kind, sorted."""
    return tuple(sorted({point.name for point in entry_points(group=ENTRY_POINT_GROUP)}))


@cache
def portal_kind(name: str) -> PortalKind:
    """The installed portal kind called `name`; SetupError naming the known ones if none is."""
    wanted = name.strip().lower()
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name == wanted:
            kind = point.load()
            if not isinstance(kind, PortalKind):
                raise SetupError(f"the portal package {point.value} is not a PortalKind")
            return kind
    known = ", ".join(kind_names()) or "none installed"
    raise SetupError(f"no portal of kind {name[:40]!r}: the kinds are {known}")


def default_kind_name() -> str:
    """The kind a command works with when not told: PORTAL_KIND, else the settings' default."""
    from robots.settings import Settings

    field = Settings.model_fields["portal_kind"]
    return os.environ.get("PORTAL_KIND", "").strip() or str(field.default)


def default_kind() -> PortalKind:
    """The portal kind of `default_kind_name`."""
    return portal_kind(default_kind_name())
