"""The time now, as a value passed in: what reads the clock takes one, so a test can
set the time without patching a module."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
