"""A rebuild pauses the cyclic garbage collector for its replay, and always restarts it."""

from __future__ import annotations

import gc
import json
import multiprocessing
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import Connection, select

from service.db import sqlite
from service.domain.envelope import RecordedEvent
from service.domain.events import EventIn
from service.ingest.importing import SEED_PRINCIPAL, import_events, read_seed
from service.ingest.submit import new_events
from service.ledger import Ledger, build_ledger, derived_table_rules
from service.log.append import WriteOnlyRules
from service.settings import Settings
from service.views import built_ahead, rebuild
from service.views.built_ahead import can_build_ahead
from service.views.rebuild import ReplayPlan, check_projections, rebuild_projections
from tests.factories import dispatch_body, meta_body, source_body

DEFAULT_CACHE_SIZE = -2000  # SQLite's own: 2,000 KiB


class Failing(WriteOnlyRules):
    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        assert not gc.isenabled(), "the replay runs with the collector paused"
        raise RuntimeError("a rule failed halfway")


def test_the_collector_runs_again_after_a_rebuild_and_after_a_failed_one(
    seeded: Ledger,
) -> None:
    assert gc.isenabled()
    report = rebuild_projections(seeded.engine, derived_table_rules())
    assert report.events > 0 and gc.isenabled()

    with pytest.raises(RuntimeError, match="halfway"):
        rebuild_projections(seeded.engine, [Failing()])

    assert gc.isenabled()


class Watching(WriteOnlyRules):
    """Notes the connection a replay writes through, and its replay settings then."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, dict[str, int]]] = []

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        self.seen.append((conn.connection.driver_connection, replay_pragmas(conn.connection)))


def replay_pragmas(driver_connection: Any) -> dict[str, int]:
    return {
        name: int(driver_connection.execute(f"PRAGMA {name}").fetchone()[0])
        for name in sqlite.REWRITE_PRAGMAS
    }


def test_a_sqlite_replay_runs_with_its_own_pragmas_and_gives_the_connection_back_as_it_was(
    tmp_path: Path,
) -> None:
    # (SQLite's own setting: on SQLite whichever database the other tests run on)
    ledger = build_ledger(Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}"))
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    with ledger.engine.connect() as conn:
        before = replay_pragmas(conn.connection)
    watching = Watching()
    rebuild_projections(ledger.engine, [watching])
    [(driver_connection, during)] = watching.seen
    assert during == {
        "cache_size": -sqlite.REWRITE_CACHE_KIB,
        "secure_delete": 0,
        "threads": 2,
    }
    assert before["cache_size"] == DEFAULT_CACHE_SIZE
    assert replay_pragmas(driver_connection) == before


def test_a_sqlite_rebuild_leaves_the_write_ahead_log_empty(tmp_path: Path) -> None:
    """A rebuild rewrites every view in one transaction; its WAL would keep their size on
    disk (SQLite never shrinks it on its own)."""
    ledger = build_ledger(Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}"))
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    wal = tmp_path / "ledger.db-wal"
    assert wal.stat().st_size > 0

    rebuild_projections(ledger.engine, derived_table_rules())

    assert wal.stat().st_size == 0


def _derived_indexes(conn: Any) -> dict[str, str]:
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('facts', 'flow_contributions', 'corroborations')"
    )
    return {name: sql for name, sql in rows}


class IndexWatching(WriteOnlyRules):
    """Notes which of the derived tables' indexes exist while a replay writes."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        self.seen |= set(_derived_indexes(conn))


def test_a_sqlite_replay_makes_the_indexes_it_does_not_read_by_afterwards_as_migrated(
    tmp_path: Path,
) -> None:
    """Every index the migrations made is there again after a rebuild, and after a
    failed one, defined as before: the views' reads go on finding them."""
    ledger = build_ledger(Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}"))
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    with ledger.engine.connect() as conn:
        migrated = _derived_indexes(conn)
    assert set(migrated) > rebuild.READ_DURING_REPLAY
    watching = IndexWatching()

    rebuild_projections(ledger.engine, [*derived_table_rules(), watching])
    with ledger.engine.connect() as conn:
        assert _derived_indexes(conn) == migrated
    assert watching.seen == rebuild.READ_DURING_REPLAY

    with pytest.raises(RuntimeError, match="halfway"):
        rebuild_projections(ledger.engine, [*derived_table_rules(), Failing()])
    with ledger.engine.connect() as conn:
        assert _derived_indexes(conn) == migrated
    assert rebuild_projections(ledger.engine, derived_table_rules()).events == len(read_seed())


IN_THREES = ReplayPlan(chunk_events=3, rows_built_ahead=False)
IN_THREES_BUILT_AHEAD = ReplayPlan(chunk_events=3, rows_built_ahead=True, rows_built_ahead_from=0)


@pytest.mark.parametrize("rows", ["built here", "built ahead"])
def test_a_replay_in_many_chunks_makes_the_same_tables(seeded: Ledger, rows: str) -> None:
    """A replay reads the log and writes its rows chunk by chunk: with chunks of three
    events, with corrections and retractions of facts stored by an earlier chunk or made
    in their own, and a source whose date is corrected after a fact cited it, it still
    finds what the appends made. Also with the plain rows built by a second process
    (on SQLite; on PostgreSQL both replay here)."""
    append_corrections_across_chunks(seeded)
    rules = derived_table_rules()
    plan = IN_THREES_BUILT_AHEAD if rows == "built ahead" else IN_THREES
    with seeded.engine.connect() as conn:  # the way this test means to replay is taken
        sqlite = conn.dialect.name == "sqlite"
        taken = plan.rows_built_ahead and can_build_ahead(conn, rules, head=1, from_events=0)
        assert taken == (sqlite and rows == "built ahead")

    report = check_projections(seeded.engine, rules, plan)

    assert report.differences == []
    assert report.events == len(read_seed()) + 15


def test_rows_built_ahead_make_exactly_the_tables_the_plain_replay_makes(tmp_path: Path) -> None:
    """The second process is a speed-up only: every derived row, and how many times it is
    stored, is the plain replay's (compared here directly, not only with the live view)."""
    # (a SQLite file, whichever database the other tests run on)
    ledger = build_ledger(Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}"))
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    append_corrections_across_chunks(ledger)
    rules = derived_table_rules()
    with ledger.engine.connect() as conn:
        assert can_build_ahead(conn, rules, head=1, from_events=0)

    rebuild_projections(ledger.engine, rules, IN_THREES)
    plain = derived_rows(ledger)
    rebuild_projections(ledger.engine, rules, IN_THREES_BUILT_AHEAD)
    built_ahead_rows = derived_rows(ledger)

    assert built_ahead_rows == plain
    assert plain["facts"] and plain["flow_contributions"]


def test_rows_are_built_ahead_only_for_rules_that_all_say_which_rows_are_theirs(
    tmp_path: Path,
) -> None:
    ledger = build_ledger(Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}"))
    rules = derived_table_rules()
    with ledger.engine.connect() as conn:
        assert can_build_ahead(conn, rules, head=10, from_events=10)
        assert can_build_ahead(conn, rules[::-1], head=10, from_events=10)
        assert not can_build_ahead(conn, rules, head=9, from_events=10)
        # a rule that must see every event, or only some of the tables built ahead
        assert not can_build_ahead(conn, [*rules, Watching()], head=10, from_events=10)
        assert not can_build_ahead(conn, rules[:1], head=10, from_events=10)
    # the knob itself: a setting, read into the plan
    plan = ReplayPlan.of(Settings(rebuild_rows_built_ahead=False, rebuild_chunk_events=7))
    assert plan == ReplayPlan(chunk_events=7, rows_built_ahead=False)


def derived_rows(ledger: Ledger) -> dict[str, Counter[tuple[Any, ...]]]:
    """Each derived table's rows, without their surrogate ids, with how often each is stored."""
    with ledger.engine.connect() as conn:
        return {
            table.name: Counter(
                tuple(
                    json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v for v in row
                )
                for row in conn.execute(select(*[c for c in table.c if c.name != "id"]))
            )
            for table in rebuild.DERIVED
        }


def append_corrections_across_chunks(seeded: Ledger) -> None:
    """Fifteen events: facts with corrections and retractions, some right after their fact,
    and a source whose date is corrected after a fact cited it."""
    dispatches = _appended(seeded, *(dispatch_body(destinations=["Vladivostok"]) for _ in range(4)))
    _appended(
        seeded,
        meta_body(
            "fact.corrected",
            str(dispatches[0].id),
            reason="misread",
            replacement={
                **dispatches[0].data,
                "count": {"text": "about 90", "qualifier": "approximately", "number": 90},
            },
        ),
        meta_body("fact.retracted", str(dispatches[2].id), reason="not confirmed"),
    )
    for number in range(3):  # each correction right after its fact: often in its chunk
        [made] = _appended(seeded, dispatch_body(destinations=["Kazan", "Moscow"][: number + 1]))
        _appended(
            seeded,
            meta_body(
                "fact.corrected",
                str(made.id),
                reason="recount",
                replacement={**made.data, "affiliation": "military"},
            ),
        )
    [source] = _appended(seeded, source_body("desk-two", published_on="2023-05-01"))
    _appended(seeded, dispatch_body(source_id="desk-two", destinations=["Khabarovsk"]))
    _appended(
        seeded,
        meta_body(
            "fact.corrected",
            str(source.id),
            source_id="desk-two",
            reason="wrong date",
            replacement={**source.data, "published_on": "2023-05-09"},
        ),
    )


def _appended(ledger: Ledger, *bodies: dict[str, Any]) -> list[RecordedEvent]:
    events = new_events(TypeAdapter(list[EventIn]).validate_python(bodies), ledger.gazetteer)
    return ledger.store.append(events, principal="test").result.events


def test_a_failure_of_the_process_building_rows_stops_the_rebuild_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (a SQLite file, whichever database the other tests run on)
    ledger = build_ledger(Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}"))
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    rules = derived_table_rules()
    flow_rows = flow_row_count(ledger)
    # the second process is sent a file that holds no log
    monkeypatch.setattr(built_ahead, "_sqlite_file", lambda conn: tmp_path / "missing.db")

    with pytest.raises(RuntimeError, match="building the replay's rows failed"):
        rebuild_projections(ledger.engine, rules, IN_THREES_BUILT_AHEAD)

    monkeypatch.undo()
    assert flow_row_count(ledger) == flow_rows > 0
    assert check_projections(ledger.engine, rules).differences == []


def flow_row_count(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM flow_contributions").scalar() or 0)


def test_a_process_building_rows_that_dies_without_a_word_stops_the_replay() -> None:
    """No last message, no error sent (killed, say): the replay stops rather than wait."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    sender.close()

    with pytest.raises(RuntimeError, match="building the replay's rows stopped"):
        list(built_ahead._received(receiver))
