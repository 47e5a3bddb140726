"""Errors of the domain, as values with names.

The web layer maps each to one RFC 9457 problem type in one place
(`service/api/problems.py`); nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence


class FieldValueError(ValueError):
    """A cross-field check failed; `field` is the field at fault, relative to the model.

    Pydantic keeps the exception in the error's context, so the problem
    response can name the field even for model-level checks.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class LedgerError(Exception):
    """Base of every refusal the ledger makes for a reason a client can fix."""

    def __init__(self, detail: str, *, pointer: Sequence[str | int] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pointer = tuple(pointer)


class UnknownPlace(LedgerError):
    def __init__(self, name: str, suggestions: list[str], *, pointer: Sequence[str | int]) -> None:
        hint = f" Closest matches: {', '.join(suggestions)}." if suggestions else ""
        super().__init__(f"No place called {name!r} is in the gazetteer.{hint}", pointer=pointer)
        self.suggestions = suggestions


class AmbiguousPlace(LedgerError):
    def __init__(self, name: str, candidates: list[str], *, pointer: Sequence[str | int]) -> None:
        super().__init__(
            f"{name!r} names several places: {', '.join(candidates)}. "
            "Send `place_id` or `country` to choose one.",
            pointer=pointer,
        )
        self.suggestions = candidates


class UnknownCountry(LedgerError):
    """A country filter names no country of the gazetteer (or a place that is not one)."""

    def __init__(
        self, detail: str, suggestions: list[str], *, pointer: Sequence[str | int]
    ) -> None:
        super().__init__(detail, pointer=pointer)
        self.suggestions = suggestions


class UnknownSource(LedgerError):
    """An event cites a source that has not been recorded."""


class SourceAlreadyRecorded(LedgerError):
    """A `source.recorded` reuses an id: a source is recorded once."""


class UnknownTarget(LedgerError):
    """A corroboration, correction or retraction names no fact event."""


class TargetRetracted(LedgerError):
    """A retracted fact cannot be corrected, corroborated or retracted again."""


class SelfCorroboration(LedgerError):
    """A source corroborates a fact it reported itself: that adds no second witness."""


class InvalidReplacement(LedgerError):
    """A correction's replacement is not a valid payload of the target's type."""


class WrongExpectedVersion(LedgerError):
    def __init__(self, stream: str, expected: int, current: int, *, pointer: Sequence[str | int]):
        super().__init__(
            f"Stream {stream!r} is at version {current}, not {expected}: "
            "someone else changed it; reload and try again.",
            pointer=pointer,
        )
        self.stream = stream
        self.expected = expected
        self.current = current


class IdempotencyConflict(LedgerError):
    """The Idempotency-Key was used before with another request body."""


class CommitOutcomeUnknown(LedgerError):
    """The connection to the database was lost while a COMMIT was under way: the events
    may or may not be recorded. Only a retry with the same Idempotency-Key is safe."""

    def __init__(self) -> None:
        super().__init__(
            "The database connection was lost while your events were being committed: "
            "they may or may not be recorded. Retry with the same Idempotency-Key and the "
            "ledger records them once (a retry answers with the first result if they were); "
            "without one, look for them in GET /v1/events before you send them again."
        )
