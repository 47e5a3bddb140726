"""`/v1/changes`: what changed in the figures between two states of the ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from service.api.deps import ConnectionDep, LedgerDep
from service.api.problems import problem_responses
from service.api.serving.time_axes import MAX_POSITION
from service.api.v1.deployments import parse_group_by
from service.domain.envelope import RecordedEvent
from service.domain.moments import Timestamp
from service.log.positions import position_known_at, resolve_position
from service.log.read import read_events_at
from service.views.deployments.fold import DeploymentQuery, changed_positions
from service.views.deployments.queries import DeploymentRow, deployments_view

router = APIRouter(prefix="/v1/changes", tags=["deployments"])

FIGURES = ("dispatched", "repatriated", "net_flow", "estimated_present")


class RowChange(BaseModel):
    key: dict[str, str] = Field(
        description="The group, e.g. `{place: ru-moscow, affiliation: civilian}`."
    )
    before: DeploymentRow | None
    after: DeploymentRow | None
    events: list[RecordedEvent] = Field(description="The events between the two that changed it.")


class ChangesView(BaseModel):
    from_position: int
    to_position: int
    group_by: list[str]
    changes: list[RowChange]


def _row_key(row: DeploymentRow, names: tuple[str, ...]) -> tuple[str, ...]:
    values = {
        "country": row.country,
        "place": row.place.place_id if row.place else None,
        "affiliation": row.affiliation,
    }
    return tuple(str(values[n]) for n in names)


def _figures(row: DeploymentRow | None) -> tuple[object, ...] | None:
    return None if row is None else tuple(getattr(row, f) for f in FIGURES)


@router.get("", summary="What changed since a position or a time", responses=problem_responses(422))
def changes(
    conn: ConnectionDep,
    ledger: LedgerDep,
    from_position: Annotated[int | None, Query(ge=0, le=MAX_POSITION)] = None,
    since: Annotated[
        Timestamp | None,
        Query(description="Instead of `from_position`: what the ledger knew at this time."),
    ] = None,
    to_position: Annotated[
        int | None, Query(ge=0, le=MAX_POSITION, description="Default: the head now.")
    ] = None,
    group_by: Annotated[str, Query(max_length=100)] = "place,affiliation",
) -> ChangesView:
    """ "What did we publish on 1 June, and what changed since?" Give the position you
    published at (a view's `position`) or `since=2023-06-01T00:00:00Z`: the rows of
    `/v1/deployments` whose figures differ, before and after, with the events that
    changed them (new facts, corrections, retractions, corroborations)."""
    names = parse_group_by(group_by)
    end, head = resolve_position(conn, known_at=None, at_position=to_position)
    start = from_position if from_position is not None else 0
    if since is not None:
        start = position_known_at(conn, since)
    start = min(start, end)
    before = deployments_view(
        conn, ledger.gazetteer, DeploymentQuery(group_by=names, position=start), head, ledger.folds
    )
    after = deployments_view(
        conn, ledger.gazetteer, DeploymentQuery(group_by=names, position=end), head, ledger.folds
    )
    old = {_row_key(r, names): r for r in before.rows}
    new = {_row_key(r, names): r for r in after.rows}
    touched = changed_positions(conn, names, start, end)
    result = []
    for key in sorted(set(old) | set(new) | set(touched)):
        was, now = old.get(key), new.get(key)
        if _figures(was) == _figures(now) and (was is None or was.sources == now.sources):  # type: ignore[union-attr]
            continue
        result.append(
            RowChange(
                key=dict(zip(names, key, strict=True)),
                before=was,
                after=now,
                events=read_events_at(conn, sorted(touched.get(key, set()))),
            )
        )
    return ChangesView(from_position=start, to_position=end, group_by=list(names), changes=result)
