"""The layout's one rule, checked: imports point inward, and no package imports back.

Each part of `service/` has a layer; a module may import only parts of a lower layer
(or its own part). A new package must be given a layer here, on purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[2] / "service"

LAYERS: dict[str, int] = {
    # pure and leaf: what a reported fact is, and plain utilities
    "domain": 0,
    "settings": 0,
    "json_codec": 0,
    "gazetteer": 1,
    "db": 1,
    # the event log alone
    "log": 2,
    # the read models, each above the ones it reads
    "views.facts": 3,
    "access": 3,
    "views.deployments": 4,
    "views.estimates": 5,
    "views.remittances": 5,
    "views.sources": 5,
    "views.statements": 5,
    "views.entries": 5,
    "views.wages": 6,  # over views.remittances, whose conversion it reuses
    "views": 6,  # rebuild, caches: over every read model
    # what writes into the log, and what follows it
    "ingest": 7,
    "follow": 7,
    # composition: the container and every table
    "ledger": 8,
    "schema": 8,
    # the web
    "api.serving": 9,
    "api": 10,
    "api.v1": 11,
    "desk": 11,  # the pages at /: beside the v1 routers, reading the same views
    "app": 12,
    "cli": 14,
    "openapi": 13,
}
SUBPACKAGES = ("views", "api")


def part_of(module: str) -> str:
    """The layer a module belongs to: `service.views.facts.updater` -> `views.facts`."""
    names = module.split(".")[1:]
    if len(names) >= 2 and names[0] in SUBPACKAGES and f"{names[0]}.{names[1]}" in LAYERS:
        return f"{names[0]}.{names[1]}"
    return names[0] if names else "service"


def module_name(path: Path) -> str:
    parts = path.relative_to(SERVICE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("service.") and _exists(m)}


def _exists(module: str) -> bool:
    base = SERVICE.parent.joinpath(*module.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def import_edges() -> set[tuple[str, str, str]]:
    """(importing module, its part, imported part) for every import across parts."""
    edges = set()
    for path in SERVICE.rglob("*.py"):
        source = module_name(path)
        for target in imported_modules(path):
            if part_of(target) != part_of(source):
                edges.add((source, part_of(source), part_of(target)))
    return edges


def test_every_part_of_the_service_has_a_layer() -> None:
    parts = {part_of(module_name(p)) for p in SERVICE.rglob("*.py")} - {"service"}
    assert parts, "no modules found"
    assert parts <= set(LAYERS), f"give these a layer: {sorted(parts - set(LAYERS))}"


def test_imports_point_inward() -> None:
    edges = import_edges()
    assert len(edges) > 20, "the graph is read (sanity)"
    upward = sorted(
        f"{module} ({part}, layer {LAYERS[part]}) imports {target} (layer {LAYERS[target]})"
        for module, part, target in edges
        if part in LAYERS and target in LAYERS and LAYERS[target] >= LAYERS[part]
    )
    assert upward == []


@pytest.mark.parametrize("pure", ["domain", "gazetteer"])
def test_the_domain_imports_no_web_and_no_sql(pure: str) -> None:
    outside = ("fastapi", "starlette", "sqlalchemy", "sqlmodel", "httpx", "uvicorn")
    modules = list((SERVICE / pure).rglob("*.py"))
    assert modules
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            assert not any(n.split(".")[0] in outside for n in names), f"{path}: {names}"
