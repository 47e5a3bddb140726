"""One of the processes racing `expected_version` on one stream (tests/bench/hostile.py).

    python -m tests.bench.racer URL TOKEN SECONDS N

Reads the stream's version, appends a dispatch expecting it, and again until SECONDS
have passed; prints {"acknowledged": a, "conflicts": c} as one JSON line. Its own small
process, importing httpx only, so that four of them start in a moment."""

from __future__ import annotations

import json
import sys
import time

import httpx

from tests.factories import dispatch_body

STREAM = "race"


def main() -> None:
    url, token, seconds, n = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    acknowledged = conflicts = 0
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, timeout=30, headers=headers) as http:
        while time.monotonic() < deadline:
            version = http.get(f"/v1/streams/source:{STREAM}").json()["version"]
            number = 1000 * n + acknowledged + conflicts
            count = {"text": f"about {number}", "qualifier": "approximately", "number": number}
            body = {**dispatch_body(STREAM, count=count), "expected_version": version}
            status = http.post("/v1/events", json=body).status_code
            acknowledged += status == 201
            conflicts += status == 409
    print(json.dumps({"acknowledged": acknowledged, "conflicts": conflicts}))


if __name__ == "__main__":
    main()
