"""Country outlines shipped with the service (world-atlas 2.0.2, Natural Earth 1:110m;
see assets/outlines/README.md), decoded from TopoJSON into SVG paths once per process.

TopoJSON keeps each border once, as an arc of delta-encoded integer points; a polygon
ring lists the arcs it is made of (`~i`, i.e. -i-1, is arc i backwards). Coordinates
are longitude and latitude; the map draws them as x = lon, y = -lat.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

OUTLINES = Path(__file__).resolve().parent / "assets" / "outlines" / "countries-110m.json"

Point = tuple[float, float]


@dataclass(frozen=True)
class Outline:
    name: str
    path: str
    """SVG path data in degrees: x = longitude, y = minus latitude."""


def decode_arcs(topology: dict[str, Any]) -> list[list[Point]]:
    """Every arc as absolute (lon, lat) points."""
    scale_x, scale_y = topology["transform"]["scale"]
    move_x, move_y = topology["transform"]["translate"]
    arcs: list[list[Point]] = []
    for arc in topology["arcs"]:
        x = y = 0
        points: list[Point] = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale_x + move_x, y * scale_y + move_y))
        arcs.append(points)
    return arcs


def ring(arcs: list[list[Point]], indexes: list[int]) -> list[Point]:
    """A closed ring from its arcs; consecutive arcs share their joining point."""
    points: list[Point] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def _path(rings: list[list[Point]]) -> str:
    return "".join(
        "M" + "L".join(f"{lon:.2f},{-lat:.2f}" for lon, lat in points) + "Z"
        for points in rings
        if len(points) > 2
    )


def outlines_of(topology: dict[str, Any], name: str = "countries") -> list[Outline]:
    arcs = decode_arcs(topology)
    found: list[Outline] = []
    for geometry in topology["objects"][name]["geometries"]:
        if geometry["type"] == "Polygon":
            polygons = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            continue
        rings = [ring(arcs, r) for polygon in polygons for r in polygon]
        label = str(geometry.get("properties", {}).get("name", ""))
        found.append(Outline(label, _path(rings)))
    return found


@cache
def world() -> tuple[Outline, ...]:
    """The shipped outlines, read once."""
    return tuple(outlines_of(json.loads(OUTLINES.read_text())))


@cache
def world_svg() -> Markup:
    """The outlines as SVG paths, each titled with its country's name: written once, as
    every map draws the same 150 kB of them."""
    return Markup(
        "".join(f'<path d="{o.path}"><title>{escape(o.name)}</title></path>' for o in world())
    )
