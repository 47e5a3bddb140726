"""The ingest benchmark of issue 2: `python -m tests.bench.ingest`.

On PostgreSQL and on SQLite, in fresh databases, with every baseline measured
in the same run on the same database:

- the ledger: a real uvicorn (`service.app:create_app --factory`, one worker)
  taking `POST /v1/events` with an API key, one event per request and in
  batches of 100 and 1,000, from a few concurrent keep-alive connections;
- a bare FastAPI endpoint served the same way, one INSERT per request
  (tests/bench/bare_insert_app.py);
- the same rows inserted raw: psycopg `executemany` (sqlite3 on SQLite), 1,000
  per transaction;
- the floor: every row the ledger stored for its 1,000-event batches (the events,
  their facts and flow rows) inserted raw the same way, into tables shaped like its
  own: what its data model asks of the database alone;
- the `eventsourcing` library (`pip install -e '.[bench]'`) saving the same
  events through its PostgreSQL (or SQLite) recorder, 1, 100 and 1,000 per save.

Targets: batch POSTs >= 50% of the floor; single POSTs >= 70% of the bare one-INSERT
endpoint. Raw executemany and eventsourcing are shown for comparison. Every figure is
events per second; the machine's other load moves them, the ratios less so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg.types.json import Jsonb
from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from service.access.keys import KeyRing, Scope
from service.domain.events import EventIn, EventInBase
from service.gazetteer import default_gazetteer
from service.ingest.submit import new_events
from service.log.tables import EVENTS
from service.views.deployments.tables import FLOWS
from service.views.facts.tables import FACTS
from tests.bench.bare_insert_app import BARE_TABLE, events_twin, twin
from tests.bench.bulk_load import COLUMNS, SECRET, BenchDatabase
from tests.bench.http_load import served

RAW_TABLE = "bench_raw_events"
SOURCE_ID = "bench-desk-report"
PLACES = (
    "Moscow",
    "Saint Petersburg",
    "Vladivostok",
    "Khabarovsk",
    "Kazan",
    "Novosibirsk",
    "Yekaterinburg",
    "Nakhodka",
    "Blagoveshchensk",
    "Krasnoyarsk",
)
QUALIFIERS = ("exact", "approximately", "at_least", "more_than", "fewer_than")


@dataclass(frozen=True)
class Sizes:
    singles: int
    batched: dict[int, int]  # batch size -> events
    single_clients: int
    batch_clients: int

    @classmethod
    def scaled(cls, scale: float, single_clients: int = 8) -> Sizes:
        return cls(
            singles=int(2000 * scale),
            batched={100: int(10_000 * scale), 1000: int(20_000 * scale)},
            single_clients=single_clients,
            batch_clients=2,
        )


@dataclass(frozen=True)
class Result:
    path: str
    batch: int
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds


# --- the events ------------------------------------------------------------------


def dispatch_body(number: int, source_id: str = SOURCE_ID) -> dict[str, Any]:
    """A dispatch like the seed report's, varied: a place or two, a count, its own day.

    Each fact has a day of its own, so none looks like a duplicate of another (the
    warnings are not what this measures)."""
    # 30,000 days from 1946 stay within the years a report may give (1945 to ten years on).
    day = (date(1946, 1, 1) + timedelta(days=number % 30_000)).isoformat()
    qualifier = QUALIFIERS[number % len(QUALIFIERS)]
    amount = 50 + number % 950
    places = [PLACES[number % len(PLACES)]]
    if number % 3 == 0:
        places.append(PLACES[(number + 1) % len(PLACES)])
    return {
        "type": "workers.dispatched",
        "provenance": {
            "source_id": source_id,
            "locator": f"About {amount} workers went to {' and '.join(places)} (item {number}).",
            "reporting_basis": "anonymous_source_in_country",
        },
        "data": {
            "destinations": [{"name": name} for name in places],
            "count": {"text": f"{qualifier} {amount}", "qualifier": qualifier, "number": amount},
            "affiliation": ("civilian", "military", "unknown")[number % 3],
            "sector": "construction",
            "transport": "rail",
            "period": {"start": day, "end": day, "precision": "day", "text": day},
        },
    }


def source_body(source_id: str = SOURCE_ID) -> dict[str, Any]:
    return {
        "type": "source.recorded",
        "provenance": {"source_id": source_id, "locator": "headline"},
        "data": {
            "source_id": source_id,
            "outlet": "Bench Desk",
            "title": "Workers sent abroad, item by item",
            "language": "en",
        },
    }


@dataclass(frozen=True)
class StoredForm:
    """What the ledger stores for a body: places resolved, count bounds filled."""

    type: str
    data: dict[str, Any]
    provenance: dict[str, Any]


def stored_forms(bodies: Sequence[dict[str, Any]]) -> list[StoredForm]:
    adapter = TypeAdapter[EventInBase](EventIn)
    prepared = new_events([adapter.validate_python(b) for b in bodies], default_gazetteer())
    return [StoredForm(e.type, e.data, e.provenance) for e in prepared]


def envelope_rows(forms: Sequence[StoredForm], first_position: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "position": first_position + i,
            "id": UUID(int=first_position + i, version=4),
            "stream": f"source:{f.provenance['source_id']}",
            "stream_version": first_position + i,
            "type": f.type,
            "schema_version": 1,
            "source_id": f.provenance["source_id"],
            "data": f.data,
            "provenance": f.provenance,
            "recorded_at": now,
            "recorded_by": "bench",
            "hash": f"{first_position + i:064x}",
            "prev_hash": f"{first_position + i - 1:064x}",
        }
        for i, f in enumerate(forms)
    ]


# --- the ledger and the bare endpoint over HTTP --------------------------------------


def post_all(base: str, path: str, bodies: Sequence[bytes], clients: int, token: str) -> float:
    """POST every body, `clients` at a time; the seconds from the first to the last answer.

    A plain asyncio HTTP/1.1 client on keep-alive connections: httpx spends about a
    millisecond of CPU per request, so on two cores it, not the server, would be
    measured (it tops out near 700 requests/s against an empty endpoint here)."""
    url = urlsplit(base)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: "
    ).encode()

    async def run() -> float:
        pending = iter(bodies)

        async def one_client() -> None:
            reader, writer = await asyncio.open_connection(url.hostname, url.port)
            try:
                for body in pending:
                    writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
                    status, answer = await _read_response(reader)
                    if status != 201:
                        raise RuntimeError(f"POST {path}: {status} {answer[:500]!r}")
            finally:
                writer.close()

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        return time.perf_counter() - started

    return asyncio.run(run())


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def encoded(bodies: Sequence[dict[str, Any]], batch: int) -> list[bytes]:
    if batch == 1:
        return [json.dumps(b).encode() for b in bodies]
    return [
        json.dumps({"events": list(bodies[i : i + batch])}).encode()
        for i in range(0, len(bodies), batch)
    ]


class Numbers:
    """Event numbers handed out in order, so that no two scenarios send the same fact."""

    def __init__(self) -> None:
        self.next = 0

    def take(self, count: int) -> range:
        taken = range(self.next, self.next + count)
        self.next += count
        return taken


def measure_ledger(db: BenchDatabase, sizes: Sizes, numbers: Numbers) -> list[Result]:
    _, token = KeyRing(db.engine, SECRET.encode()).create("bench-desk", {Scope.events_write})
    results = []
    with served("service.app:create_app", db.server_env()) as base:
        warm = [dispatch_body(n) for n in numbers.take(20)]
        post_all(base, "/v1/events", encoded([source_body()], 1), 1, token)
        post_all(base, "/v1/events", encoded(warm, 1), 2, token)
        singles = [dispatch_body(n) for n in numbers.take(sizes.singles)]
        seconds = post_all(base, "/v1/events", encoded(singles, 1), sizes.single_clients, token)
        results.append(Result("ledger: POST /v1/events", 1, len(singles), seconds))
        for batch, count in sizes.batched.items():
            bodies = [dispatch_body(n) for n in numbers.take(count)]
            seconds = post_all(
                base, "/v1/events", encoded(bodies, batch), sizes.batch_clients, token
            )
            results.append(Result("ledger: POST /v1/events", batch, count, seconds))
    return results


def measure_bare_endpoint(db: BenchDatabase, sizes: Sizes, numbers: Numbers) -> Result:
    events_twin(BARE_TABLE).create(db.engine)
    with served("tests.bench.bare_insert_app:create_app", db.server_env()) as base:
        post_all(base, "/events", encoded([dispatch_body(n) for n in range(20)], 1), 2, "-")
        bodies = encoded([dispatch_body(n) for n in numbers.take(sizes.singles)], 1)
        seconds = post_all(base, "/events", bodies, sizes.single_clients, "-")
    return Result("bare FastAPI, one INSERT per request", 1, len(bodies), seconds)


# --- raw executemany -------------------------------------------------------------------


def measure_executemany(db: BenchDatabase, forms: Sequence[StoredForm], batch: int) -> Result:
    table = events_twin(RAW_TABLE)
    table.create(db.engine)
    rows = envelope_rows(forms, first_position=1)
    insert = f"INSERT INTO {RAW_TABLE} ({', '.join(COLUMNS)}) VALUES "
    if db.backend == "postgres":
        conninfo = make_url(db.url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(conninfo) as conn, conn.cursor() as cursor:
            statement = insert + "(" + ", ".join("%s" for _ in COLUMNS) + ")"
            started = time.perf_counter()
            for chunk in chunks(rows, batch):
                cursor.executemany(statement, [_pg_values(r) for r in chunk])
                conn.commit()
            seconds = time.perf_counter() - started
        return Result("raw psycopg executemany", batch, len(rows), seconds)
    path = db.settings().sqlite_path()
    assert path is not None
    with _sqlite(path) as conn:
        statement = insert + "(" + ", ".join("?" for _ in COLUMNS) + ")"
        started = time.perf_counter()
        for chunk in chunks(rows, batch):
            conn.execute("BEGIN")
            conn.executemany(statement, [_sqlite_values(r) for r in chunk])
            conn.execute("COMMIT")
        seconds = time.perf_counter() - started
    return Result("raw sqlite3 executemany", batch, len(rows), seconds)


def measure_ledger_rows(db: BenchDatabase, count: int, batch: int) -> Result:
    """Every row the ledger stored for its last `count` events (the 1,000-event batches:
    events, facts, flow rows), read back as the driver gives them and inserted raw as
    `measure_executemany` inserts events, `batch` events' rows per transaction, into
    twins of the three tables with their indexes. No HTTP, no validation, no hash, no
    Python building rows: the part of a batch's cost that is the data model's."""
    tables = {table: twin(table, f"bench_floor_{table.name}") for table in (EVENTS, FACTS, FLOWS)}
    with db.engine.connect() as conn:
        head = conn.execute(select(func.max(EVENTS.c.position))).scalar_one()
        first = head - count + 1
        stored = {}
        for table in tables:
            columns = [c.name for c in table.columns if c is not FLOWS.c.id]  # its own ids
            read = conn.exec_driver_sql(
                f"SELECT {', '.join(columns)} FROM {table.name} "
                f"WHERE position >= {first} ORDER BY position"
            )
            stored[table] = (columns, [tuple(row) for row in read])
    for copy in tables.values():
        copy.create(db.engine)
    postgres = db.backend == "postgres"
    mark = "%s" if postgres else "?"
    work = []  # per transaction: (statement, rows) for each table
    for start in range(first, head + 1, batch):
        step = []
        for table, (columns, rows) in stored.items():
            position = columns.index("position")
            chosen = [
                tuple(Jsonb(v) if postgres and isinstance(v, dict | list) else v for v in row)
                for row in rows
                if start <= row[position] < start + batch
            ]
            statement = (
                f"INSERT INTO {tables[table].name} ({', '.join(columns)}) "
                f"VALUES ({', '.join(mark for _ in columns)})"
            )
            step.append((statement, chosen))
        work.append(step)
    label = "floor: ledger's own rows, executemany"
    if postgres:
        conninfo = make_url(db.url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(conninfo) as server, server.cursor() as cursor:
            started = time.perf_counter()
            for step in work:
                for statement, chosen in step:
                    cursor.executemany(statement, chosen)
                server.commit()
            return Result(label, batch, count, time.perf_counter() - started)
    path = db.settings().sqlite_path()
    assert path is not None
    with _sqlite(path) as raw:
        started = time.perf_counter()
        for step in work:
            raw.execute("BEGIN")
            for statement, chosen in step:
                raw.executemany(statement, chosen)
            raw.execute("COMMIT")
        return Result(label, batch, count, time.perf_counter() - started)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _pg_values(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(Jsonb(row[c]) if c in ("data", "provenance") else row[c] for c in COLUMNS)


def _sqlite_values(row: dict[str, Any]) -> tuple[Any, ...]:
    converted = {
        **row,
        "id": row["id"].hex,
        "data": json.dumps(row["data"]),
        "provenance": json.dumps(row["provenance"]),
        "recorded_at": row["recorded_at"].strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    return tuple(converted[c] for c in COLUMNS)


@contextmanager
def _sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    # The ledger's own settings: WAL, synchronous NORMAL.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        yield conn
    finally:
        conn.close()


# --- eventsourcing -----------------------------------------------------------------------


class Report(Aggregate):
    """eventsourcing's side: one aggregate per stream, as the ledger has one per source."""

    @event("Recorded")
    def __init__(self, source_id: str) -> None:
        self.source_id = source_id

    @event("Dispatched")
    def dispatched(self, data: dict[str, Any], provenance: dict[str, Any]) -> None:
        pass


def measure_eventsourcing(
    db: BenchDatabase, forms: Sequence[StoredForm], batch: int, threads: int
) -> Result:
    app = Application[UUID](env=_eventsourcing_env(db))
    reports = [Report(f"{SOURCE_ID}-{batch}-{t}") for t in range(threads)]
    app.save(*reports)
    shares = [forms[t::threads] for t in range(threads)]

    def save_in_batches(report: Report, share: Sequence[StoredForm]) -> None:
        for chunk in chunks(share, batch):
            for form in chunk:
                report.dispatched(form.data, form.provenance)
            app.save(report)

    seconds = _in_threads(
        [lambda r=r, s=s: save_in_batches(r, s) for r, s in zip(reports, shares, strict=True)]
    )
    app.close()
    return Result(f"eventsourcing {_eventsourcing_module(db)}", batch, len(forms), seconds)


def _eventsourcing_module(db: BenchDatabase) -> str:
    return "PostgreSQL recorder" if db.backend == "postgres" else "SQLite recorder"


def _eventsourcing_env(db: BenchDatabase) -> dict[str, str]:
    if db.backend == "postgres":
        url = make_url(db.url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(url.database),
            "POSTGRES_HOST": str(url.host or "127.0.0.1"),
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": str(url.username or "postgres"),
            "POSTGRES_PASSWORD": url.password or "",
            "POSTGRES_POOL_SIZE": "10",
        }
    path = db.settings().sqlite_path()
    assert path is not None
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path.with_name(path.stem + "-eventsourcing.db")),
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def _in_threads(work: Sequence[Callable[[], None]]) -> float:
    failures: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as failure:
            failures.append(failure)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise failures[0]
    return seconds


# --- the run -----------------------------------------------------------------------------


def measure_backend(backend: str, sizes: Sizes, workdir: Path) -> list[Result]:
    db = BenchDatabase.fresh(backend, f"ll_bench_ingest_{backend}", workdir)
    results: list[Result] = []

    def measured(*found: Result) -> None:
        for result in found:
            print(f"  {result.path} ×{result.batch}: {result.rate:,.0f} events/s", flush=True)
        results.extend(found)

    try:
        numbers = Numbers()
        measured(*measure_ledger(db, sizes, numbers))
        measured(measure_bare_endpoint(db, sizes, numbers))
        largest = max(sizes.batched)
        forms = stored_forms([dispatch_body(n) for n in numbers.take(sizes.batched[largest])])
        measured(measure_executemany(db, forms, largest))
        measured(measure_ledger_rows(db, sizes.batched[largest], largest))
        for batch, count in [(1, sizes.singles // 2), *sizes.batched.items()]:
            threads = sizes.single_clients if batch == 1 else sizes.batch_clients
            measured(measure_eventsourcing(db, forms[:count], batch, threads))
        return results
    finally:
        db.drop()


def table(backend: str, results: list[Result]) -> str:
    ledger = {r.batch: r for r in results if r.path.startswith("ledger")}
    lines = [
        f"{'PostgreSQL' if backend == 'postgres' else 'SQLite'}",
        f"  {'path':<40} {'batch':>5} {'events':>7} {'events/s':>9}  ledger vs it",
    ]
    for r in results:
        mine = ledger.get(r.batch)
        versus = "" if r.path.startswith("ledger") or mine is None else f"{mine.rate / r.rate:.0%}"
        lines.append(f"  {r.path:<40} {r.batch:>5} {r.events:>7} {r.rate:>9,.0f}  {versus:>8}")
    lines += ["  targets:", *(f"    {t}" for t in targets(results))]
    return "\n".join(lines)


def targets(results: list[Result]) -> list[str]:
    ledger = {r.batch: r.rate for r in results if r.path.startswith("ledger")}
    checks = []
    for r in results:
        if r.batch not in ledger:
            continue
        ratio = ledger[r.batch] / r.rate
        if r.path.startswith("floor"):
            goal, text = 0.5, "batch POSTs >= 50% of the floor (the ledger's own rows, raw)"
        elif r.path.startswith("bare"):
            goal, text = 0.7, "single POSTs >= 70% of the bare one-INSERT endpoint"
        else:
            continue  # raw executemany and eventsourcing: shown, no target
        checks.append(f"{'met ' if ratio >= goal else 'MISSED'} {text}: {ratio:.0%}")
    return checks


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="Multiply every request count (default 1)."
    )
    parser.add_argument(
        "--clients", type=int, default=8, help="Concurrent clients sending single events."
    )
    args = parser.parse_args(argv)
    sizes = Sizes.scaled(args.scale, args.clients)
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    tables = []
    with tempfile.TemporaryDirectory(prefix="ll-bench-ingest-") as workdir:
        for backend in backends:
            print(f"… {backend}", flush=True)
            tables.append(table(backend, measure_backend(backend, sizes, Path(workdir))))
    print()
    print("\n\n".join(tables))
    print(
        f"\n{sizes.single_clients} clients for single events, {sizes.batch_clients} for batches "
        f"(as many threads for eventsourcing); {os.cpu_count()} CPUs, load average "
        f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after; "
        f"whole run {time.perf_counter() - started:,.0f} s"
    )


if __name__ == "__main__":
    main()
