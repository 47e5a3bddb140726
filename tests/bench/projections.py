"""The projections benchmark of issue 4: `python -m tests.bench.projections --events 1000000`.

For SQLite and PostgreSQL, with every baseline measured in the same run:
- `GET /v1/deployments` (default view) at 10k and at N events, median / p95 of
  uncached requests (an event is appended before each, so the view is folded
  again) and of cached ones (the same request repeated), each timed to the last
  byte of the gzipped answer; the cached ones also with the client inflating it;
- its throughput under 32 connections (wrk) against one uvicorn worker, beside
  a bare FastAPI endpoint served the same way;
- the view with `as_of` and with `known_at` at N events, beside a plain SQL
  `GROUP BY` over the same rows with the same filters;
- `labor-ledger rebuild` (the same `rebuild_projections` call) in events/s,
  beside one bare `SELECT` reading the same rows;
- the first read after a restart at N events (once `/readyz` says ready, an event
  appended before it as before every uncached read), beside a warm uncached read.

The log (see synthetic_log.py) is written in bulk into fresh databases, then
the derived tables are rebuilt; the 10k database holds the first 10k events of
the same log.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import httpx
from pydantic import TypeAdapter
from sqlalchemy import Engine, case, func, literal, or_, select

from service.domain.events import EventIn, EventInBase
from service.gazetteer import Gazetteer, default_gazetteer
from service.ingest.submit import new_events
from service.ledger import build_ledger, derived_table_rules
from service.log.append import EventStore
from service.log.tables import EVENTS
from service.views.deployments.tables import FLOWS
from service.views.rebuild import rebuild_projections
from tests.bench.bulk_load import BenchDatabase, fresh_workdir
from tests.bench.http_load import Latency, Throughput, served, timed_gets, wrk
from tests.bench.synthetic_log import LogShape, SyntheticLog, check_rows

BACKENDS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
VIEW = "/v1/deployments"
AS_OF = date(2021, 6, 30)
KNOWN_AT_SHARE = 0.75  # known_at: the moment three quarters of the log had been recorded
CHUNK = 20_000
CHECKED_EVERY = 997  # one row in this many goes through the API's validation
GZIP = {"Accept-Encoding": "gzip"}  # as browsers, httpx and requests send it
READY_WITHIN_SECONDS = 1800


@dataclass
class Measured:
    """Everything measured on one backend."""

    small_uncached: Latency | None = None
    small_cached: Latency | None = None
    uncached: Latency | None = None
    cached: Latency | None = None
    small_cached_inflated: Latency | None = None
    cached_inflated: Latency | None = None
    throughput: Throughput | None = None
    throughput_identity: Throughput | None = None
    bare: Throughput | None = None
    as_of: Latency | None = None
    as_of_baseline: Latency | None = None
    known_at: Latency | None = None
    known_at_baseline: Latency | None = None
    after_restart: Latency | None = None
    rebuild_per_second: float = 0.0
    select_per_second: float = 0.0
    notes: list[str] = field(default_factory=list)


@contextmanager
def stage(name: str) -> Iterator[None]:
    started = time.perf_counter()
    print(f"… {name}", flush=True)
    yield
    print(f"  {name}: {time.perf_counter() - started:,.1f} s", flush=True)


class Appender:
    """Appends one real dispatch through the store, so the next read must fold again."""

    _event = TypeAdapter[EventInBase](EventIn)

    def __init__(self, store: EventStore, gazetteer: Gazetteer, source_id: str) -> None:
        self.store = store
        self.gazetteer = gazetteer
        self.source_id = source_id
        self.number = 0

    def __call__(self) -> None:
        self.number += 1
        body = {
            "type": "workers.dispatched",
            "provenance": {"source_id": self.source_id, "locator": f"bench append {self.number}"},
            "data": {
                "destinations": [{"name": "Moscow"}],
                "count": {"text": "about 40", "qualifier": "approximately", "number": 40},
                "affiliation": "civilian",
                "period": {"start": "2026-10-01", "end": "2026-10-31", "precision": "month"},
            },
        }
        events = new_events([self._event.validate_python(body)], self.gazetteer)
        self.store.append(events, principal="bench")


def group_by_baseline(engine: Engine, position: int, as_of: date | None, times: int) -> Latency:
    """The plain SQL a view would be without its rules: sums per kind, place, affiliation."""
    conditions = [
        FLOWS.c.kind.in_(("dispatched", "repatriated")),
        FLOWS.c.position <= position,
        or_(FLOWS.c.superseded_at.is_(None), FLOWS.c.superseded_at > position),
    ]
    if as_of is not None:
        conditions.append(FLOWS.c.period_start <= as_of)
    query = (
        select(
            FLOWS.c.kind,
            FLOWS.c.place_id,
            FLOWS.c.affiliation,
            func.sum(FLOWS.c.count_min),
            func.sum(FLOWS.c.count_best),
            func.sum(FLOWS.c.count_max),
            func.sum(case((FLOWS.c.count_max.is_(None), 1), else_=0)),
            func.count(),
        )
        .where(*conditions)
        .group_by(FLOWS.c.kind, FLOWS.c.place_id, FLOWS.c.affiliation)
    )
    samples = []
    with engine.connect() as conn:
        for _ in range(times):
            started = time.perf_counter()
            rows = conn.execute(query).all()
            samples.append(time.perf_counter() - started)
    assert rows
    return Latency(samples)


def read_all_events(engine: Engine) -> tuple[int, float]:
    """One bare SELECT of every event, rows fetched and their JSON decoded."""
    started = time.perf_counter()
    read = 0
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=5000).execute(
            select(EVENTS).order_by(EVENTS.c.position)
        )
        for _ in result:
            read += 1
    return read, time.perf_counter() - started


def bare_throughput(args: argparse.Namespace) -> Throughput:
    with served("tests.bench.bare_app:create_app") as bare:
        return wrk(bare + "/bare", args.connections, args.seconds, headers=GZIP)


def wait_ready(base: str) -> float:
    """Seconds until `/readyz` answers 200 (a process warms its views first)."""
    started = time.perf_counter()
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while httpx.get(f"{base}/readyz", timeout=10).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base} was not ready in {READY_WITHIN_SECONDS} s")
        time.sleep(0.05)
    return time.perf_counter() - started


def head_position(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(EVENTS.c.position))).scalar() or 0)


def position_known_at(engine: Engine, moment: datetime) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            select(func.coalesce(func.max(EVENTS.c.position), literal(0))).where(
                EVENTS.c.recorded_at <= moment
            )
        ).scalar()
    return int(found or 0)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.projections", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000, help="The small log's size.")
    parser.add_argument(
        "--backends", default="sqlite,postgres", help="Comma-separated: sqlite, postgres."
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/labor-ledger-bench"))
    parser.add_argument("--seconds", type=int, default=10, help="Length of each wrk run.")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--uncached", type=int, default=15, help="Uncached requests at N events.")
    parser.add_argument("--cached", type=int, default=200, help="Cached requests per size.")
    parser.add_argument("--keep", action="store_true", help="Keep the databases afterwards.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    gazetteer = default_gazetteer()
    shape = LogShape(events=args.events)
    log = SyntheticLog(shape, gazetteer)
    workdir = fresh_workdir(args.workdir)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    small_dbs = {
        b: BenchDatabase.fresh(b, f"ll_bench_projections_small_{b}", workdir) for b in backends
    }
    large_dbs = {b: BenchDatabase.fresh(b, f"ll_bench_projections_{b}", workdir) for b in backends}
    results = {b: Measured() for b in backends}

    checked = 0
    with stage(f"generate and write the first {args.small:,} events"):
        rows = list(log.rows(args.small))
        checked += check_rows(rows[::CHECKED_EVERY] + rows[: len(log.sources) + 5], gazetteer)
        for db in (*small_dbs.values(), *large_dbs.values()):
            db.write(rows)
        for db in small_dbs.values():
            db.set_head(log)
            db.settle()
    for backend, db in small_dbs.items():
        with stage(f"{backend}: rebuild and read at {args.small:,} events"):
            rebuild_projections(db.engine, derived_table_rules())
            measured = results[backend]
            with served("service.app:create_app", db.server_env()) as base:
                wait_ready(base)
                ledger = build_ledger(db.settings())
                append = Appender(ledger.store, gazetteer, log.sources[0]["id"])
                with httpx.Client(base_url=base, timeout=600) as client:
                    measured.small_uncached = timed_gets(client, VIEW, 20, before_each=append)
                    measured.small_cached = timed_gets(client, VIEW, args.cached)
                    measured.small_cached_inflated = timed_gets(
                        client, VIEW, args.cached, inflated=True
                    )
                ledger.engine.dispose()

    with stage(f"generate and write events {args.small + 1:,} to {args.events:,}"):
        written = args.small
        while written < args.events:
            rows = list(log.rows(written + CHUNK))
            checked += check_rows(rows[::CHECKED_EVERY], gazetteer)
            for db in large_dbs.values():
                db.write(rows)
            written += len(rows)
        for db in large_dbs.values():
            db.set_head(log)
            db.settle()
    print(f"  {checked:,} rows checked against the API's validation and the store's hash")
    print(f"  events by type: {dict(sorted(log.counts.items()))}")
    print(f"  {log.place_count} places, {len(log.sources)} sources")

    for backend, db in large_dbs.items():
        measured = results[backend]
        with stage(f"{backend}: bare SELECT of {args.events:,} events"):
            read, seconds = read_all_events(db.engine)
            measured.select_per_second = read / seconds
        with stage(f"{backend}: rebuild from {args.events:,} events"):
            report = rebuild_projections(db.engine, derived_table_rules())
            measured.rebuild_per_second = report.events_per_second
        db.settle()
        measured.notes.append(f"database size {db.size()}")
        with stage(f"{backend}: reads at {args.events:,} events"):
            position = head_position(db.engine)
            known_at = shape.recorded_at(int(args.events * KNOWN_AT_SHARE))
            known_position = position_known_at(db.engine, known_at)
            with served("service.app:create_app", db.server_env()) as base:
                started_in = wait_ready(base)
                ledger = build_ledger(db.settings())
                append = Appender(ledger.store, gazetteer, log.sources[0]["id"])
                with httpx.Client(base_url=base, timeout=600) as client:
                    measured.uncached = timed_gets(client, VIEW, args.uncached, append)
                    measured.cached = timed_gets(client, VIEW, args.cached)
                    measured.cached_inflated = timed_gets(client, VIEW, args.cached, inflated=True)
                    measured.as_of = timed_gets(
                        client, f"{VIEW}?as_of={AS_OF}", args.uncached, append
                    )
                    measured.known_at = timed_gets(
                        client,
                        f"{VIEW}?known_at={known_at.isoformat().replace('+00:00', 'Z')}",
                        args.uncached,
                        append,
                    )
                measured.as_of_baseline = group_by_baseline(
                    db.engine, head_position(db.engine), AS_OF, args.uncached
                )
                measured.known_at_baseline = group_by_baseline(
                    db.engine, known_position, None, args.uncached
                )
                # The baseline just before and just after, so that both meet the same
                # machine: a slow spell shows as two bare figures far apart (noted).
                bare_before = bare_throughput(args)
                measured.throughput = wrk(base + VIEW, args.connections, args.seconds, headers=GZIP)
                measured.throughput_identity = wrk(base + VIEW, args.connections, args.seconds)
                bare_after = bare_throughput(args)
                ledger.engine.dispose()
            measured.bare = Throughput.mean_of(bare_before, bare_after)
            measured.notes.append(
                f"bare FastAPI {bare_before.requests_per_second:,.0f} req/s before the "
                f"ledger's wrk runs, {bare_after.requests_per_second:,.0f} after"
            )
            measured.notes.append(
                f"head {position:,}; known_at {known_at:%Y-%m-%d %H:%M} = position "
                f"{known_position:,}; as_of {AS_OF}"
            )
        with stage(f"{backend}: the first read after a restart at {args.events:,} events"):
            with served("service.app:create_app", db.server_env()) as base:
                restarted_in = wait_ready(base)
                ledger = build_ledger(db.settings())
                append = Appender(ledger.store, gazetteer, log.sources[0]["id"])
                with httpx.Client(base_url=base, timeout=600) as client:
                    measured.after_restart = timed_gets(client, VIEW, 1, append)
                ledger.engine.dispose()
            measured.notes.append(
                f"ready {started_in:,.1f} s after the first start, {restarted_in:,.1f} s after "
                "the restart (the default view folded meanwhile)"
            )

    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print()
    print(table(results, args))
    if not args.keep:
        for db in (*small_dbs.values(), *large_dbs.values()):
            db.drop()


def table(results: dict[str, Measured], args: argparse.Namespace) -> str:
    big, small = (
        f"{args.events / 1e6:g}M" if args.events >= 1e6 else f"{args.events // 1000}k",
        (f"{args.small // 1000}k"),
    )
    lines = [
        f"| backend | measure | at {big} events | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]

    def add(
        backend: str,
        measure: str,
        value: str,
        base: str,
        ratio: float,
        target: str,
        ok: bool | None,
        pct: bool = False,
    ) -> None:
        shown = f"{ratio:.0%}" if pct else f"{ratio:.2f}×"
        met = "" if ok is None else "yes" if ok else "NO"
        lines.append(
            f"| {BACKENDS[backend]} | {measure} | {value} | {base} | {shown} | {target} | {met} |"
        )

    for backend, m in results.items():
        assert m.uncached and m.small_uncached and m.cached and m.small_cached
        ratio = m.uncached.median_ms / m.small_uncached.median_ms
        add(
            backend,
            "default view, uncached (median / p95)",
            str(m.uncached),
            f"{small}: {m.small_uncached}",
            ratio,
            "≤ 1.5×",
            ratio <= 1.5,
        )
        ratio = m.cached.median_ms / m.small_cached.median_ms
        add(
            backend,
            "default view, cached (median / p95)",
            str(m.cached),
            f"{small}: {m.small_cached}",
            ratio,
            "≤ 1.5×",
            ratio <= 1.5,
        )
        assert m.cached_inflated and m.small_cached_inflated
        ratio = m.cached_inflated.median_ms / m.small_cached_inflated.median_ms
        add(
            backend,
            "default view, cached, the client inflating the body too",
            str(m.cached_inflated),
            f"{small}: {m.small_cached_inflated}",
            ratio,
            "(shown)",
            None,
        )
        assert m.throughput and m.throughput_identity and m.bare
        for label, measured in (("gzip", m.throughput), ("identity", m.throughput_identity)):
            ratio = measured.requests_per_second / m.bare.requests_per_second
            add(
                backend,
                f"throughput, {args.connections} connections, 1 worker, {label}",
                str(measured),
                f"bare FastAPI: {m.bare}",
                ratio,
                "≥ 50%" if label == "gzip" else "(shown)",
                ratio >= 0.5 if label == "gzip" else None,
                pct=True,
            )
        for name, view, base in (
            ("as_of", m.as_of, m.as_of_baseline),
            ("known_at", m.known_at, m.known_at_baseline),
        ):
            assert view and base
            ratio = view.median_ms / base.median_ms
            add(
                backend,
                f"`{name}` view, uncached (median / p95)",
                str(view),
                f"SQL GROUP BY: {base}",
                ratio,
                "≤ 3×",
                ratio <= 3,
            )
        assert m.after_restart
        ratio = m.after_restart.median_ms / m.uncached.median_ms
        add(
            backend,
            "default view, the first read after a restart (once ready)",
            f"{m.after_restart.median_ms:,.1f} ms",
            f"warm uncached: {m.uncached.median_ms:,.1f} ms",
            ratio,
            "≤ 2×",
            ratio <= 2,
        )
        ratio = m.rebuild_per_second / m.select_per_second
        add(
            backend,
            "rebuild",
            f"{m.rebuild_per_second:,.0f} events/s",
            f"bare SELECT: {m.select_per_second:,.0f} rows/s",
            ratio,
            "≥ 30%",
            ratio >= 0.3,
            pct=True,
        )
    notes = [f"- {BACKENDS[b]}: " + "; ".join(m.notes) for b, m in results.items()]
    return "\n".join([*lines, "", *notes])


if __name__ == "__main__":
    main()
