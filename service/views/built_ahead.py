"""A long replay on SQLite, its plain rows built in a second process.

A replay turns the log into rows in one thread of Python, and SQLite writes them in
that same thread: the machine's other cores stay idle. Most events are plain facts
whose rows depend on the event alone: its `facts` row (`fact_row`), its flow rows
(`contribution_rows`), all but their source's publication date, and an entry statistic's
figures (`plain_entry_rows`). So for a log longer
than `rebuild_rows_built_ahead_from` events (a setting) in a SQLite file, a second
process reads the log and builds those rows, as the driver takes them, one chunk ahead;
the replay writes them, dates the flow rows, and gives the chunk's other events
(corrections, retractions, corroborations) to the rules as usual.

Which rules allow it is theirs to say (`RowsBuiltAhead`): each names the table its
plain rows go to, and rows are built ahead only when the rules replayed are exactly
those of the tables built here (`BUILT_HERE`). A rule that must see every event stops
it: the replay then reads the log itself.

Rows built ahead are written before the rules see the chunk's other events. A
correction then finds the rows of a fact of its own chunk already stored and ends
them as it ends any stored rows (an in-memory replay ends them before they are
written): the tables come out the same, checked by the tests and on the 1M bench
database (no difference). That database replayed in 29-30 s this way, against 41-44 s.

The second process sees the log the replay sees: the replay holds the append lock
from before it starts until it commits, and it reads no further than the head.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

import orjson
from sqlalchemy import Connection

from service.db.bulk import insert_values, row_values
from service.db.engine import make_engine
from service.domain.envelope import ReplayedEvent
from service.domain.events import META_TYPES
from service.log.append import AppendRules
from service.log.replayed import recorded_events
from service.settings import Settings, sqlite_file
from service.views.deployments.tables import FLOWS
from service.views.deployments.updater import contribution_rows, report_dates
from service.views.entries.tables import ENTRIES
from service.views.entries.updater import plain_entry_rows
from service.views.facts.longest_period import longest_of, note_longest_period
from service.views.facts.tables import FACTS
from service.views.facts.updater import fact_row

BUILT_HERE = (FACTS.name, FLOWS.name, ENTRIES.name)
"""The tables whose plain rows the second process builds (`_built`): a fact's `facts` row
(`fact_row`), its flow rows (`contribution_rows`) and an entry statistic's figures
(`plain_entry_rows`), the functions the rules call."""

FACT_COLUMNS = tuple(c.name for c in FACTS.columns)
FLOW_COLUMNS = tuple(c.name for c in FLOWS.columns if c.name != "id")  # numbered on insert
_SOURCE = FLOW_COLUMNS.index("source_id")
_REPORTED_ON = FLOW_COLUMNS.index("reported_on")
ENTRY_COLUMNS = tuple(c.name for c in ENTRIES.columns if c.name != "id")


@dataclass
class BuiltAhead:
    """A chunk of the log: the driver values of its plain facts' rows, how long their
    longest period is, and its other events, for the rules."""

    facts: list[Any]  # each row's values, in `FACT_COLUMNS` order
    flows: list[Any]  # each row's values, in `FLOW_COLUMNS` order (lists, once received)
    entries: list[Any]  # each row's values, in `ENTRY_COLUMNS` order
    longest_days: int
    others: list[ReplayedEvent]  # as read from the log: sent as JSON, typed on arrival
    events: int

    def apply(self, conn: Connection, rules: Sequence[AppendRules]) -> None:
        insert_values(conn, FACTS, FACT_COLUMNS, self.facts)
        note_longest_period(conn, self.longest_days)
        if self.flows:
            # the dates as the facts table has them now, as `ProjectionRules` reads them
            dates = report_dates(conn, {row[_SOURCE] for row in self.flows})
            iso = {source: day.isoformat() if day else None for source, day in dates.items()}
            for row in self.flows:
                row[_REPORTED_ON] = iso.get(row[_SOURCE])
            insert_values(conn, FLOWS, FLOW_COLUMNS, self.flows)
        insert_values(conn, ENTRIES, ENTRY_COLUMNS, self.entries)
        if self.others:
            logged = [event.logged() for event in self.others]
            for rule in rules:
                rule.apply(conn, logged)


@runtime_checkable
class RowsBuiltAhead(Protocol):
    """Rules whose rows for a plain fact (any event but a correction, retraction or
    corroboration) depend on the event alone, one table's worth, built by this module's
    functions for that table; in a replay with rows built ahead they see only the
    chunk's other events."""

    rows_built_ahead: str
    """The table those rows go to, one of `BUILT_HERE`."""


def can_build_ahead(
    conn: Connection, rules: Sequence[AppendRules], head: int, *, from_events: int
) -> bool:
    """A log of at least `from_events` events in a SQLite file, replayed by rules that
    each have their plain rows built ahead, together those of every table built here."""
    tables = [rule.rows_built_ahead for rule in rules if isinstance(rule, RowsBuiltAhead)]
    return (
        _sqlite_file(conn) is not None
        and head >= from_events
        and len(tables) == len(rules)
        and sorted(tables) == sorted(BUILT_HERE)
    )


@contextmanager
def built_ahead(conn: Connection, head: int, chunk: int) -> Iterator[Iterator[BuiltAhead]]:
    """The log up to `head` in chunks of `chunk` events, built by a second process. A
    context: the process is stopped when it ends, whatever happened."""
    path = _sqlite_file(conn)
    assert path is not None, "only for a SQLite file (can_build_ahead)"
    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    receiver, sender = context.Pipe(duplex=False)
    builder = context.Process(
        target=_build,
        args=(str(path), head, chunk, sender),
        name="replay-rows",
        daemon=True,
    )
    builder.start()
    sender.close()
    try:
        yield _received(receiver)
    finally:
        receiver.close()
        if builder.is_alive():
            builder.terminate()
        builder.join()


def _received(receiver: Pipe) -> Iterator[BuiltAhead]:
    while True:
        try:
            message = receiver.recv_bytes()
        except EOFError:
            raise RuntimeError("the process building the replay's rows stopped") from None
        if not message:
            return
        kind, body = message[:1], message[1:]
        if kind == _FAILED:
            raise RuntimeError(f"the process building the replay's rows failed: {body.decode()}")
        yield _decoded(orjson.loads(body) if kind == _ORJSON else json.loads(body))


def _sqlite_file(conn: Connection) -> Path | None:
    path = sqlite_file(conn.engine.url.render_as_string(hide_password=False))
    return None if path is None else path.resolve()  # wherever the second process starts


# --- the second process ----------------------------------------------------------------


def _build(path: str, head: int, chunk: int, sender: Pipe) -> None:
    try:
        _build_all(path, head, chunk, sender)
        sender.send_bytes(b"")
    except Exception:  # the replay raises it, with this text
        sender.send_bytes(_FAILED + traceback.format_exc().encode())
    finally:
        sender.close()


def _build_all(path: str, head: int, chunk: int, sender: Pipe) -> None:
    gc.disable()  # as the replay does: its objects are freed by reference counting
    # The ledger's own engine: the log decoded, and values made, as in the replay.
    engine = make_engine(Settings(database_url=f"sqlite:///{path}"))
    fact_values = row_values(FACTS, FACT_COLUMNS, engine.dialect)
    flow_values = row_values(FLOWS, FLOW_COLUMNS, engine.dialect)
    entry_values = row_values(ENTRIES, ENTRY_COLUMNS, engine.dialect)
    after = 0
    with engine.connect() as log:  # beside the replay's writer: it sees the committed log
        while events := recorded_events(log, after, head, chunk):
            sender.send_bytes(_encoded(_built(events, fact_values, flow_values, entry_values)))
            after = events[-1].position


# A message's first byte: how to read the rest. JSON, not pickle: orjson writes a chunk
# in 0.2 µs an event where pickle took 3 µs, in the process that sets the pace.
_ORJSON, _JSON, _FAILED = b"O", b"J", b"E"


def _encoded(built: BuiltAhead) -> bytes:
    others = [
        [e.id.hex, e.position, e.type, e.schema_version, e.data, e.source_id] for e in built.others
    ]
    chunk = [built.facts, built.flows, built.entries, built.longest_days, others, built.events]
    try:
        return _ORJSON + orjson.dumps(chunk)
    except TypeError:  # an integer beyond 64 bits, which orjson would read back as a float
        return _JSON + json.dumps(chunk).encode()


def _decoded(chunk: list[Any]) -> BuiltAhead:
    facts, flows, entries, longest_days, others, events = chunk
    replayed = [ReplayedEvent(UUID(hex_id), *rest) for hex_id, *rest in others]
    return BuiltAhead(facts, flows, entries, longest_days, replayed, events)


def _built(
    events: list[ReplayedEvent], fact_values: Any, flow_values: Any, entry_values: Any
) -> BuiltAhead:
    built = BuiltAhead(
        facts=[], flows=[], entries=[], longest_days=0, others=[], events=len(events)
    )
    periods = []
    for event in events:
        if event.type in META_TYPES:  # the rules' own
            built.others.append(event)
            continue
        logged = event.logged()
        fact = fact_row(logged)
        periods.append((fact["period_start"], fact["period_end"]))
        built.facts.append(fact_values(fact))
        made = contribution_rows(logged.id, logged.position, logged.figures, logged.source_id, None)
        built.flows.extend(map(flow_values, made))
        built.entries.extend(map(entry_values, plain_entry_rows(logged)))
    built.longest_days = longest_of(periods)
    return built
