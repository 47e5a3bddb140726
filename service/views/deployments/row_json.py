"""The JSON of a deployments view, put together from the JSON of its rows.

A view carried forward to a new head keeps the very group objects that did not
change (`projections/incremental.py`), so each row's JSON is made once per
group and reused by every later view that holds it: a view of every city costs
the few changed rows, not all of them. A row's JSON differs between positions
only in its `events_url` (which names the position); it is kept in two parts
around that value.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

import orjson
from pydantic import BaseModel

from service.views.deployments.fold import DeploymentGroup

Row = TypeVar("Row", bound=BaseModel)

_PLACEHOLDER = "\x00events_url\x00"
_PLACEHOLDER_JSON = orjson.dumps(_PLACEHOLDER)


class RowFragments:
    """Each group's row as JSON, split around its `events_url`, and as a model (for the
    desk's pages, which render rows), for as long as some fold holds the group."""

    def __init__(self) -> None:
        self._kept: weakref.WeakKeyDictionary[DeploymentGroup, tuple[bytes, bytes]] = (
            weakref.WeakKeyDictionary()
        )
        self._rows: weakref.WeakKeyDictionary[DeploymentGroup, BaseModel] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def row(
        self,
        group: DeploymentGroup,
        events_url: str,
        make_row: Callable[[DeploymentGroup, str], Row],
    ) -> Row:
        """`make_row(group, events_url)`: the row kept for the group, copied with this
        `events_url` (a copy, so that a row handed out is never changed later)."""
        with self._lock:
            kept = self._rows.get(group)
        if kept is None:
            kept = make_row(group, _PLACEHOLDER)
            with self._lock:
                self._rows[group] = kept
        # kept for this group by this same `make_row`: of its type
        return cast(Row, kept.model_copy(update={"events_url": events_url}))

    def row_json(
        self,
        group: DeploymentGroup,
        events_url: str,
        make_row: Callable[[DeploymentGroup, str], BaseModel],
    ) -> tuple[bytes, bytes, bytes]:
        """`make_row(group, events_url).model_dump_json()`, from the parts kept: in three
        pieces, joined once with the whole view's (`with_rows`)."""
        with self._lock:
            parts = self._kept.get(group)
        if parts is None:
            rendered = make_row(group, _PLACEHOLDER).model_dump_json().encode()
            before, found, after = rendered.partition(_PLACEHOLDER_JSON)
            if not found or _PLACEHOLDER_JSON in after:
                raise ValueError("a row's JSON holds its events_url once, where it is split")
            parts = (before, after)
            with self._lock:
                self._kept[group] = parts
        return parts[0], orjson.dumps(events_url), parts[1]


def with_rows(view_without_rows: BaseModel, rows: Sequence[tuple[bytes, ...]]) -> bytes:
    """The view's JSON, `rows` (its last field, empty in `view_without_rows`) filled in:
    one join of every piece (a megabyte copied once, not once per piece). pydantic writes
    a model's fields in their declared order, so the JSON ends with its `rows`; a view
    model with another field last is refused here, not served spliced wrongly."""
    if list(type(view_without_rows).model_fields)[-1:] != ["rows"]:
        raise ValueError(f"{type(view_without_rows).__name__} must declare rows last")
    head = view_without_rows.model_dump_json().encode()
    empty = b'"rows":[]}'
    if not head.endswith(empty):
        raise ValueError("the view to fill in has rows, or they are not written last")
    pieces = [head[: -len(empty)], b'"rows":[']
    for index, row in enumerate(rows):
        if index:
            pieces.append(b",")
        pieces.extend(row)
    pieces.append(b"]}")
    return b"".join(pieces)
