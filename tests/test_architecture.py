"""The import map runs one way: robots -> flows -> pages -> domain, and the robot's core
names no kind of portal (a portal is found through its entry point)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("domain", "pages", "flows", "robots")
# What each layer must not import: the layers above it.
FORBIDDEN = {layer: LAYERS[index + 1 :] for index, layer in enumerate(LAYERS)}


def imports_of(path: Path) -> list[str]:
    """Every module `path` imports, at any depth (inside functions too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def modules(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_only_the_layers_beneath_it(layer: str) -> None:
    """domain imports none of pages/flows/robots, pages none of flows/robots, flows no robots."""
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(layer)
        for name in imports_of(path)
        if name.split(".")[0] in FORBIDDEN[layer]
    ]
    assert wrong == []


def test_the_robots_core_names_no_kind_of_portal() -> None:
    """No module of robots/ imports a portal's own package (nextiva, xima, or any other)."""
    kinds = {path.name for path in (ROOT / "flows").iterdir() if (path / "__init__.py").is_file()}
    assert {"nextiva", "xima"} <= kinds
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules("robots")
        for name in imports_of(path)
        if any(part in kinds for part in name.split(".")[1:2])
    ]
    assert wrong == []


def test_every_installed_portal_is_found_by_its_entry_point() -> None:
    """The entry points name a PortalKind per kind, each with its steps listed once."""
    from robots.portals import kind_names, portal_kind

    assert {"nextiva", "xima"} <= set(kind_names())
    for name in kind_names():
        kind = portal_kind(name)
        assert kind.name == name
        names = kind.step_names()
        assert names and len(names) == len(set(names))
