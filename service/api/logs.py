"""The process's logs: one JSON object a line (or plain text for a terminal), each with
the request id of the request it was written for, and never a key or a secret.

`log_config(format)` is a `logging.config.dictConfig` configuration, given to uvicorn
(`uvicorn.run(log_config=...)`), which applies it in every worker process: uvicorn's own
lines, ours and any library's go through one formatter. structlog makes the event
dictionaries (`structlog.get_logger(...).info("request", status=200)`); the standard
library's records are turned into the same dictionaries on their way out. An app built by
another server (`uvicorn service.app:create_app --factory`) configures it itself
(`configure_logging_once`). A line written while a span is open carries its `trace_id`
and `span_id` (api/telemetry.py).
"""

from __future__ import annotations

import logging
import logging.config
import os
import re
from collections.abc import MutableMapping
from typing import Any, Literal

import orjson
import structlog
from opentelemetry import trace

LogFormat = Literal["json", "text"]

SECRETS = (
    (re.compile(r"ll_[A-Za-z0-9_-]{8,}"), "ll_[redacted]"),  # API keys
    (re.compile(r"whsec_[A-Za-z0-9_+/=-]{8,}"), "whsec_[redacted]"),  # webhook secrets
    (re.compile(r"(?i)\b(bearer)\s+[^\s,;\"']+"), r"\1 [redacted]"),  # any bearer token
)
"""What is scrubbed from every line, whoever wrote it: a key or a secret in a message, an
exception's text or a field never reaches the log. The code logs none on purpose; this is
the net under it."""
MAY_HOLD_A_SECRET = re.compile(r"ll_|whsec_|(?i:bearer)")
"""One search a value: the three substitutions run only on the rare value it finds (they
made an access line a third slower)."""


def redact_secrets(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for name, value in event.items():
        if isinstance(value, str) and MAY_HOLD_A_SECRET.search(value):
            for pattern, replacement in SECRETS:
                value = pattern.sub(replacement, value)
            event[name] = value
    return event


def add_process_id(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event["pid"] = os.getpid()  # which worker wrote it
    return event


def add_trace_ids(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The ids of the span the line was written in, when there is one (api/telemetry.py):
    from a line to its trace, and back."""
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event["trace_id"] = format(span.trace_id, "032x")
        event["span_id"] = format(span.span_id, "016x")
    return event


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,  # the request id, bound per request
    add_trace_ids,
    add_process_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
]


def use_structlog() -> None:
    """structlog's loggers hand their event dictionaries to the standard library's
    handlers (the formatter below renders them): one pipeline for every line."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def _json_line(event: Any, **_: Any) -> str:
    return orjson.dumps(event, default=str).decode()


def formatter(format: LogFormat = "json") -> logging.Formatter:
    """The one formatter (a `()` factory for dictConfig)."""
    use_structlog()
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_json_line)
        if format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
    )


def log_config(format: LogFormat = "json", level: str = "INFO") -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"lines": {"()": f"{__name__}.formatter", "format": format}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "lines",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # Our access line (service.api.request_context) has the request id and the
            # duration; uvicorn's would say the same again, less.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def configure_logging(format: LogFormat = "json", level: str = "INFO") -> None:
    logging.config.dictConfig(log_config(format, level))


def configure_logging_once(format: LogFormat = "json") -> None:
    """For an app that any ASGI server built (`uvicorn service.app:create_app --factory`,
    gunicorn's workers): its lines in our format, uvicorn's own included, unless the root
    logger already has a handler: then `labor-ledger serve`, a test runner or a host
    application configured logging, and theirs stands (so a second app changes nothing).
    The level is the one the server gave its own logger (`uvicorn --log-level`), else INFO.
    """
    if logging.getLogger().handlers:
        return
    server_level = logging.getLogger("uvicorn.error").level or logging.INFO
    configure_logging(format, logging.getLevelName(server_level))
