"""Time /healthz from a process of its own, so the benchmark's client threads (which hold
the GIL while they read streams and send bodies) do not slow the timing down.

    python -m tests.bench.health_probe URL EVERY

Prints `ready` after its first answer, asks every EVERY seconds until its standard input
closes, then prints {"samples": [seconds, ...], "failures": n} as one JSON line."""

from __future__ import annotations

import json
import sys
import threading
import time

import httpx


def main() -> None:
    url, every = sys.argv[1], float(sys.argv[2])
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    samples: list[float] = []
    failures = 0
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                ok = client.get(url + "/healthz").status_code == 200
            except httpx.HTTPError:
                ok = False
            samples.append(time.perf_counter() - started)
            failures += not ok
            if len(samples) == 1:
                print("ready", flush=True)
            stop.wait(every)
    print(json.dumps({"samples": samples, "failures": failures}), flush=True)


if __name__ == "__main__":
    main()
