"""Real HTTP: one uvicorn worker in a subprocess, timed requests, and wrk for load."""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served(factory: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """`uvicorn <factory> --factory` with httptools and uvloop, one worker; yields its URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    # A benchmark is one client asking as fast as it can: no rate limits.
    unlimited = {"LEDGER_RATE_LIMITS_ENABLED": "false"}
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **unlimited, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"{factory} exited with {server.returncode}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{factory} did not start")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass(frozen=True)
class Latency:
    samples: list[float]  # seconds

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000

    def __str__(self) -> str:
        return f"{self.median_ms:,.1f} / {self.p95_ms:,.1f} ms"


def timed_gets(
    client: httpx.Client,
    url: str,
    times: int,
    before_each: Callable[[], None] = lambda: None,
    *,
    inflated: bool = False,
) -> Latency:
    """Sequential gzip-accepting GETs, each timed alone; `before_each` runs outside the timing.

    Each is timed from sending the request to the last byte of the answer as the server
    sent it, as wrk and a browser's network panel time it. Inflating the body is the
    client's own work, and it grows with the body: a view of 1.4 MB took the client
    2.8 ms against the server's 0.5 ms. `inflated=True` times that too (as httpx's
    `get` would), to show it beside."""
    samples = []
    for _ in range(times):
        before_each()
        started = time.perf_counter()
        with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
            body = response.read() if inflated else b"".join(response.iter_raw())
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code} {body[:300]!r}")
    return Latency(samples)


@dataclass(frozen=True)
class Throughput:
    requests_per_second: float
    p50_ms: float
    p99_ms: float

    @classmethod
    def mean_of(cls, *runs: Throughput) -> Throughput:
        return cls(*(statistics.fmean(values) for values in zip(*map(astuple, runs), strict=True)))

    def __str__(self) -> str:
        return (
            f"{self.requests_per_second:,.0f} req/s "
            f"(p50 {self.p50_ms:,.1f} ms, p99 {self.p99_ms:,.1f} ms)"
        )


def wrk(
    url: str,
    connections: int = 32,
    seconds: int = 10,
    threads: int = 2,
    headers: Mapping[str, str] | None = None,
) -> Throughput:
    """Closed-loop load from wrk; every answer must be a 2xx."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    httpx.get(url, timeout=600).raise_for_status()  # warm: the first read pays the fold
    header_options = [f"-H{name}: {value}" for name, value in (headers or {}).items()]
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            *header_options,
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failures:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return Throughput(rate, _percentile(out, "50%"), _percentile(out, "99%"))


def _percentile(out: str, label: str) -> float:
    found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if found is None:
        return float("nan")
    value, unit = float(found.group(1)), found.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
