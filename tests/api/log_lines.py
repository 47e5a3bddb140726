"""The log lines a logger writes during a test, as the service's JSON formatter writes them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from service.api.logs import formatter


@contextmanager
def logged_lines(logger_name: str, level: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """Each line `logger_name` writes inside the block, read back from its JSON (at
    `level` and above, when given, whatever the logger's own level is)."""
    lines: list[dict[str, Any]] = []

    class Kept(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(self.format(record)))

    kept = Kept()
    kept.setFormatter(formatter("json"))
    logger = logging.getLogger(logger_name)
    former = logger.level
    logger.addHandler(kept)
    if level is not None:
        logger.setLevel(level)
    try:
        yield lines
    finally:
        logger.removeHandler(kept)
        logger.setLevel(former)
