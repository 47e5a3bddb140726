"""The desk's pages against the JSON views they show (issue 15):
`python -m tests.bench.desk_pages --events 1000000`.

For each backend, a synthetic log of N events (see synthetic_log.py) is written in bulk
and rebuilt; then, on one uvicorn worker, each page and the JSON views it shows are read
uncached (an event is appended before each read, so each is made anew), in turns, and
timed to the last byte. The target: a page's median within 2× of its views' (a turn's
views summed: the answer shows four).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import httpx

from service.gazetteer import default_gazetteer
from service.ledger import build_ledger, derived_table_rules
from service.views.rebuild import rebuild_projections
from tests.bench.bulk_load import BenchDatabase, fresh_workdir
from tests.bench.http_load import Latency, served, timed_gets
from tests.bench.projections import BACKENDS, CHECKED_EVERY, CHUNK, Appender, stage, wait_ready
from tests.bench.synthetic_log import LogShape, SyntheticLog, check_rows

RUSSIA = "country=RU"
IN_2021 = "country=RU&period_from=2021-01-01&period_to=2021-12-31"
PAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # The answer shows two views (the country's total in words, its cities in the table)
    # and, beside them, the arrivals and the pay reported: its baseline is all of them.
    (
        "answer: Russia, every year",
        "/?country=Russia",
        (
            f"/v1/deployments?group_by=country&{RUSSIA}",
            f"/v1/deployments?group_by=place,affiliation&{RUSSIA}",
            "/v1/entries?country=RU",
            "/v1/wages?country=RU",
        ),
    ),
    (
        "answer: Russia in 2021",
        "/?country=Russia&year=2021",
        (
            f"/v1/deployments?group_by=country&{IN_2021}",
            f"/v1/deployments?group_by=place,affiliation&{IN_2021}",
            f"/v1/entries?{IN_2021}",
            "/v1/wages?country=RU",
        ),
    ),
    ("timeline", "/timeline", ("/v1/deployments/timeline",)),
    ("map", "/map", ("/v1/deployments?group_by=place",)),
    ("stocks", "/stocks", ("/v1/estimates",)),
    ("remittances", "/remittances", ("/v1/remittances",)),
    ("statements", "/statements", ("/v1/statements",)),
    ("sources", "/sources", ("/v1/sources",)),
)
TARGET = 2.0


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--times", type=int, default=9, help="Uncached reads of each URL.")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/labor-ledger-bench-desk"))
    parser.add_argument("--keep", action="store_true", help="Keep the databases.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    gazetteer = default_gazetteer()
    log = SyntheticLog(LogShape(events=args.events), gazetteer)
    workdir = fresh_workdir(args.workdir)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    dbs = {b: BenchDatabase.fresh(b, f"ll_bench_desk_{b}", workdir) for b in backends}
    with stage(f"generate and write {args.events:,} events"):
        written = 0
        while written < args.events:
            rows = list(log.rows(min(written + CHUNK, args.events)))
            check_rows(rows[::CHECKED_EVERY], gazetteer)
            for db in dbs.values():
                db.write(rows)
            written += len(rows)
        for db in dbs.values():
            db.set_head(log)
            db.settle()
    lines = [
        f"| backend | page | page at {args.events:,} events (median / p95) | the JSON views "
        "it shows (read in turn, summed) | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, db in dbs.items():
        with stage(f"{backend}: rebuild"):
            rebuild_projections(db.engine, derived_table_rules())
            db.settle()
        with (
            stage(f"{backend}: pages and views"),
            served("service.app:create_app", db.server_env()) as base,
        ):
            wait_ready(base)
            ledger = build_ledger(db.settings())
            append = Appender(ledger.store, gazetteer, log.sources[0]["id"])
            with httpx.Client(base_url=base, timeout=600) as client:
                for name, page_url, view_urls in PAGES:
                    page, views = alternately(client, page_url, view_urls, args.times, append)
                    ratio = page.median_ms / views.median_ms
                    met = "yes" if ratio <= TARGET else "NO"
                    shown = " + ".join(f"`{url}`" for url in view_urls)
                    lines.append(
                        f"| {BACKENDS[backend]} | {name} (`{page_url}`) | {page} | "
                        f"{shown}: {views} | {ratio:.2f}× | ≤ {TARGET:g}× | {met} |"
                    )
            ledger.engine.dispose()
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print()
    print("\n".join(lines))
    if not args.keep:
        for db in dbs.values():
            db.drop()


def alternately(
    client: httpx.Client, page: str, views: tuple[str, ...], times: int, append: Appender
) -> tuple[Latency, Latency]:
    """The page and the views it shows read in turns, each after an append (a slow spell
    of the machine falls on both alike); a turn's views are timed together, summed."""
    pages, shown = [], []
    for _ in range(times):
        pages += timed_gets(client, page, 1, append).samples
        shown.append(sum(timed_gets(client, view, 1, append).samples[0] for view in views))
    return Latency(pages), Latency(shown)


if __name__ == "__main__":
    main()
