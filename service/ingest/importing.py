"""Load a file of event bodies (JSON Lines) through the same validation as the API.

What a desk is told about its file, by `import` and `push` alike: each warning the
ledger gives, with the line it is about (`LineWarning`), and each line identical to an
earlier one, which is sent once (`IdenticalLine`): a fact pasted twice is one fact, and
counting the same workers twice is the error this ledger exists to avoid.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from uuid import UUID

from pydantic import TypeAdapter, ValidationError

from service.domain.chain import canonical_json
from service.domain.errors import LedgerError
from service.domain.events import MAX_BATCH, EventIn, EventInBase
from service.domain.examples import SEED_PATH
from service.gazetteer import Gazetteer
from service.ingest.submit import new_events
from service.log.append import AppendWarning, EventStore

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
    body: Mapping[str, Any]
    """The line's JSON object, as written."""


@dataclass(frozen=True)
class LineWarning:
    """The ledger recorded the event of `line`, with a warning: it may repeat a fact."""

    line: int
    possible_duplicate_of: UUID
    reason: str
    hint: str

    def __str__(self) -> str:
        whose = "the same source" if self.reason == "same_source" else "another source"
        return (
            f"line {self.line}: possible duplicate of {self.possible_duplicate_of} "
            f"(a fact of {whose}). {self.hint}"
        )


def line_warning(warning: AppendWarning, lines: Sequence[int]) -> LineWarning:
    """`warning` of an append whose events came from these `lines` (by index), of the file."""
    return LineWarning(
        lines[warning.index], warning.possible_duplicate_of, warning.reason, warning.hint
    )


@dataclass(frozen=True)
class IdenticalLine:
    """A line that says what an earlier line of the file says: it is sent once."""

    line: int
    same_as: int

    def __str__(self) -> str:
        return f"line {self.line} is identical to line {self.same_as}: sent once"


class _NumberedBody(Protocol):
    @property
    def number(self) -> int: ...

    @property
    def body(self) -> Mapping[str, Any]: ...


Line = TypeVar("Line", bound=_NumberedBody)


def first_copies(lines: Iterable[Line]) -> tuple[list[Line], list[IdenticalLine]]:
    """The lines with each JSON object once, at its first line; and the later lines that
    repeat one (the same object: key order and spacing do not count)."""
    first_line: dict[bytes, int] = {}
    kept: list[Line] = []
    repeats: list[IdenticalLine] = []
    for line in lines:
        first = first_line.setdefault(canonical_json(line.body), line.number)
        if first == line.number:
            kept.append(line)
        else:
            repeats.append(IdenticalLine(line.number, first))
    return kept, repeats


def parse_lines(lines: Iterable[str]) -> list[ImportedLine]:
    """Every non-blank line as an event body; the first bad one stops it all."""
    parsed = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            body = json.loads(line)
            parsed.append(ImportedLine(number, _EVENT.validate_python(body), body))
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
    warned: Callable[[LineWarning], None] = lambda _: None,
) -> int:
    """Append in batches; a refused batch names its first line and keeps nothing of itself.
    Each warning the ledger gives is passed to `warned`, with its line, as it comes."""
    done = 0
    for start in range(0, len(lines), batch_size):
        batch = lines[start : start + batch_size]
        try:
            outcome = store.append(
                new_events([line.event for line in batch], gazetteer), principal=principal
            )
        except LedgerError as refused:
            line = _line_of(refused, batch)
            raise ImportFailed(line, refused.detail) from None
        numbers = [line.number for line in batch]
        for warning in outcome.result.warnings:
            warned(line_warning(warning, numbers))
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
