"""Shapes of the timeline and the map, computed on the server for an inline SVG.

The templates only place what is computed here: no chart library, no JavaScript.
A bound left open (no maximum reported) is drawn as a band running to the top of
the chart and marked open, never cut at an invented number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from service.desk.outlines import world_svg
from service.views.deployments.queries import DeploymentRow, Range
from service.views.deployments.timeline import TimelineRow

CHART_HEIGHT = 220.0
SLOT = 44.0
LEFT = 56.0
TOP = 16.0


@dataclass(frozen=True)
class Band:
    x: float
    width: float
    y: float
    height: float
    open_top: bool
    best_y: float | None
    label: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class TimelineChart:
    title: str
    width: float
    height: float
    periods: list[tuple[float, str]]
    """(x of the period's middle, its label)."""
    sent: list[Band]
    planned: list[Band]
    ticks: list[Tick]


def _top(ranges: Sequence[Range]) -> int:
    finite = [r.max if r.max is not None else (r.min or 0) for r in ranges]
    return max([1, *finite])


def _nice(value: float) -> float:
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return 10.0 * magnitude


def _y(value: float, top: float) -> float:
    return TOP + CHART_HEIGHT * (1 - value / top)


def _band(value: Range, x: float, width: float, top: float, label: str) -> Band | None:
    if value.max == 0 and not value.min:
        return None
    low = value.min or 0
    high = top if value.max is None else value.max
    y_high, y_low = _y(high, top), _y(low, top)
    best = value.best if value.best_complete else None
    return Band(
        x=x,
        width=width,
        y=y_high,
        height=max(y_low - y_high, 2.0),
        open_top=value.max is None,
        best_y=_y(best, top) if best is not None else None,
        label=label,
    )


def timeline_chart(title: str, rows: Sequence[TimelineRow]) -> TimelineChart:
    """One chart of dated periods in order: sent as a solid band, planned beside it."""
    dated = sorted((r for r in rows if r.period != "undated"), key=lambda r: r.period)
    top = _nice(_top([*(r.dispatched for r in dated), *(r.planned for r in dated)]) * 1.1)
    sent: list[Band] = []
    planned: list[Band] = []
    periods: list[tuple[float, str]] = []
    for index, row in enumerate(dated):
        x = LEFT + index * SLOT
        periods.append((x + SLOT / 2, row.period))
        if band := _band(row.dispatched, x + 6, 16, top, f"{row.period}: sent"):
            sent.append(band)
        if band := _band(row.planned, x + 24, 14, top, f"{row.period}: planned"):
            planned.append(band)
    ticks = [Tick(_y(top * i / 4, top), f"{round(top * i / 4):,}") for i in range(5)]
    return TimelineChart(
        title=title,
        width=LEFT + max(len(dated), 1) * SLOT + 16,
        height=TOP + CHART_HEIGHT + 40,
        periods=periods,
        sent=sent,
        planned=planned,
        ticks=ticks,
    )


@dataclass(frozen=True)
class Symbol:
    x: float
    y: float
    outer: float
    """Radius of the most the reports allow (of the least, where the most is open)."""
    inner: float
    """Radius of the least the reports allow."""
    open_max: bool
    name: str
    label: str


@dataclass(frozen=True)
class MapChart:
    view_box: str
    outlines: Markup
    """The country outlines as SVG paths."""
    symbols: list[Symbol]
    font_size: float
    stroke: float


WORLD = (-180.0, -85.0, 180.0, 85.0)


def map_chart(rows: Sequence[DeploymentRow]) -> MapChart:
    """Places as circles sized by their bounds (area ∝ workers), over country outlines,
    framed on the places shown (the world when there are none)."""
    # A place with nothing reported sent has no circle (it is in the table below).
    placed = [r for r in rows if r.place is not None and _size(r.dispatched) > 0]
    if placed:
        lons = [r.place.lon for r in placed if r.place]
        lats = [r.place.lat for r in placed if r.place]
        west, east = min(lons) - 12, max(lons) + 24  # room for the labels on the right
        south, north = min(lats) - 8, max(lats) + 8
        if east - west < 40:
            middle = (east + west) / 2
            west, east = middle - 20, middle + 20
        if north - south < 20:
            middle = (north + south) / 2
            south, north = middle - 10, middle + 10
    else:
        west, south, east, north = WORLD
    width = east - west
    largest = max([1, *(_size(r.dispatched) for r in placed)])
    unit = width * 0.05 / math.sqrt(largest)
    smallest = width * 0.004
    symbols = []
    for row in placed:
        assert row.place is not None
        low = row.dispatched.min or 0
        high = row.dispatched.max
        symbols.append(
            Symbol(
                x=row.place.lon,
                y=-row.place.lat,
                outer=max(unit * math.sqrt(_size(row.dispatched)), smallest),
                inner=max(unit * math.sqrt(low), smallest) if low else 0.0,
                open_max=high is None,
                name=row.place.name,
                label=f"{row.place.name}: {_said(row.dispatched)} sent",
            )
        )
    return MapChart(
        view_box=f"{west:.2f} {-north:.2f} {width:.2f} {north - south:.2f}",
        outlines=world_svg(),
        symbols=symbols,
        font_size=width * 0.018,
        stroke=width * 0.0015,
    )


def _size(value: Range) -> int:
    return value.max if value.max is not None else (value.min or 0)


def _said(value: Range) -> str:
    low = value.min or 0
    if value.max is None:
        return f"at least {low:,}"
    return f"{low:,}" if low == value.max else f"{low:,}–{value.max:,}"
