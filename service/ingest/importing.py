"""Load a file of event bodies (JSON Lines) through the same validation as the API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from service.domain.errors import LedgerError
from service.domain.events import MAX_BATCH, EventIn, EventInBase
from service.domain.examples import SEED_PATH
from service.gazetteer import Gazetteer
from service.ingest.submit import new_events
from service.log.append import EventStore

SEED_FILE = Path(__file__).resolve().parents[1].joinpath(*SEED_PATH)
SEED_PRINCIPAL = "seed"

_EVENT = TypeAdapter[EventInBase](EventIn)


class ImportFailed(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class ImportedLine:
    number: int
    event: EventInBase


def parse_lines(lines: Iterable[str]) -> list[ImportedLine]:
    """Every non-blank line as an event body; the first bad one stops it all."""
    parsed = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            parsed.append(ImportedLine(number, _EVENT.validate_python(json.loads(line))))
        except json.JSONDecodeError as bad:
            raise ImportFailed(number, f"not JSON: {bad.msg}") from None
        except ValidationError as invalid:
            first = invalid.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ImportFailed(number, f"{where}: {first['msg']}") from None
    return parsed


def import_events(
    store: EventStore,
    gazetteer: Gazetteer,
    lines: list[ImportedLine],
    *,
    principal: str,
    batch_size: int = MAX_BATCH,
    progress: Callable[[int], None] = lambda _: None,
) -> int:
    """Append in batches; a refused batch names its first line and keeps nothing of itself."""
    done = 0
    for start in range(0, len(lines), batch_size):
        batch = lines[start : start + batch_size]
        try:
            store.append(new_events([line.event for line in batch], gazetteer), principal=principal)
        except LedgerError as refused:
            line = _line_of(refused, batch)
            raise ImportFailed(line, refused.detail) from None
        done += len(batch)
        progress(len(batch))
    return done


def _line_of(refused: LedgerError, batch: list[ImportedLine]) -> int:
    pointer = refused.pointer
    if (
        len(batch) > 1
        and len(pointer) >= 2
        and pointer[0] == "events"
        and isinstance(pointer[1], int)
    ):
        return batch[pointer[1]].number
    return batch[0].number


def read_seed() -> list[ImportedLine]:
    return parse_lines(SEED_FILE.read_text(encoding="utf-8").splitlines())
