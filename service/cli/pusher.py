"""`labor-ledger push`: send a file of event bodies to a running ledger, safely.

Each batch carries an `Idempotency-Key` made from its own content, so running
the same file again after a dropped connection appends nothing twice: batches
the ledger already has come back as replays (for 48 hours, and for the same
API key). A refused batch (4xx) stops the push at the line at fault; a 5xx, a
timeout or a lost connection is retried with growing delays.

Each warning the ledger answers with is handed on with its line (a replayed batch
answers with its first answer's warnings again); a line identical to an earlier one is
sent once (see `first_copies`: the caller reports it).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter

from service.domain.chain import canonical_json
from service.ingest.importing import LineWarning, line_warning
from service.log.append import AppendWarning

DEFAULT_BATCH = 500
RETRIED_STATUSES = frozenset({408, 425, 429})
_WARNINGS = TypeAdapter(list[AppendWarning])


@dataclass(frozen=True)
class BodyLine:
    number: int
    body: dict[str, Any]


class PushStopped(Exception):
    """The push stopped at `line`. A batch lands whole or not at all: every line before
    `first_unrecorded` is in the ledger, none from it on."""

    def __init__(self, line: int, message: str, first_unrecorded: int | None = None) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message
        self.first_unrecorded = line if first_unrecorded is None else first_unrecorded


@dataclass
class PushResult:
    appended: int = 0
    already_recorded: int = 0


def read_bodies(path: Path) -> list[BodyLine]:
    """Every non-blank line as a JSON object; a line that is not one stops it before sending."""
    found = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                body = json.loads(line)
            except json.JSONDecodeError as bad:
                raise PushStopped(number, f"not JSON: {bad.msg}") from None
            if not isinstance(body, dict):
                raise PushStopped(number, "not a JSON object")
            found.append(BodyLine(number, body))
    return found


def idempotency_key(bodies: Sequence[dict[str, Any]]) -> str:
    """The same batch always gets the same key; another batch, another key."""
    return "push-" + hashlib.sha256(canonical_json({"events": list(bodies)})).hexdigest()


@dataclass
class Pusher:
    base_url: str
    api_key: str
    batch_size: int = DEFAULT_BATCH
    attempts: int = 8
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    timeout_seconds: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def push(
        self,
        lines: Sequence[BodyLine],
        progress: Callable[[int], None] = lambda _: None,
        warned: Callable[[LineWarning], None] = lambda _: None,
    ) -> PushResult:
        """Send `lines` in batches; each warning of the ledger goes to `warned`, with its
        line, as its batch is answered."""
        result = PushResult()
        url = self.base_url.rstrip("/") + "/v1/events"
        headers = {"Authorization": f"Bearer {self.api_key}"}
        with httpx.Client(timeout=self.timeout_seconds, headers=headers) as client:
            for start in range(0, len(lines), self.batch_size):
                batch = lines[start : start + self.batch_size]
                response = self._send(client, url, batch)
                if response.headers.get("Idempotent-Replayed") == "true":
                    result.already_recorded += len(batch)
                else:
                    result.appended += len(batch)
                numbers = [line.number for line in batch]
                for warning in _warnings(response):
                    warned(line_warning(warning, numbers))
                progress(len(batch))
        return result

    def _send(self, client: httpx.Client, url: str, batch: Sequence[BodyLine]) -> httpx.Response:
        """Send one batch until it is recorded: the ledger's 201 answer (a replay when the
        ledger had it already)."""
        bodies = [line.body for line in batch]
        headers = {"Idempotency-Key": idempotency_key(bodies)}
        for attempt in itertools.count(1):
            problem = None
            try:
                response = client.post(url, json={"events": bodies}, headers=headers)
            except httpx.TransportError as failed:  # timeouts and lost connections
                problem = f"{type(failed).__name__}: {failed}"
            else:
                if response.status_code == 201:
                    return response
                if response.status_code < 500 and response.status_code not in RETRIED_STATUSES:
                    raise _refused(response, batch)
                problem = f"HTTP {response.status_code}"
            if attempt == self.attempts:
                raise PushStopped(
                    batch[0].number,
                    f"gave up after {attempt} attempts ({problem}); run the same push "
                    "again to resume: batches already recorded are not appended twice",
                    # the last attempt may have landed: the ledger, not us, knows
                    first_unrecorded=batch[0].number,
                )
            delay = min(self.backoff_seconds * 2 ** (attempt - 1), self.backoff_max_seconds)
            self.sleep(delay * (0.5 + random.random() / 2))
        raise AssertionError("itertools.count never ends")


def _warnings(response: httpx.Response) -> list[AppendWarning]:
    """The warnings of a 201 answer; none from an answer that is not the ledger's."""
    try:
        return _WARNINGS.validate_python(response.json().get("warnings") or [])
    except (ValueError, AttributeError):  # a ValidationError is a ValueError
        return []


def _refused(response: httpx.Response, batch: Sequence[BodyLine]) -> PushStopped:
    try:
        problem = response.json()
    except ValueError:
        return PushStopped(
            batch[0].number,
            f"HTTP {response.status_code}: {response.text[:300]}",
            first_unrecorded=batch[0].number,
        )
    detail = str(problem.get("detail") or problem.get("title") or response.status_code)
    line = batch[0].number
    errors = problem.get("errors") or []
    if errors:
        # "/events/3/data/count" names the batch's fourth event.
        parts = str(errors[0].get("pointer", "")).split("/")
        if len(parts) > 2 and parts[1] == "events" and parts[2].isdigit():
            index = int(parts[2])
            if index < len(batch):
                line = batch[index].number
        detail = f"{errors[0].get('field') or detail}: {errors[0].get('message') or detail}"
    return PushStopped(
        line,
        f"HTTP {response.status_code} {problem.get('type', '')}: {detail}",
        first_unrecorded=batch[0].number,
    )
