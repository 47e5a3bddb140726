"""Time travel a story can cite: every page names the log position it shows, links to
itself pinned there, and says how to cite it.

A pinned page (`at_position=N`) shows what the ledger knew at N, however many events
are recorded later: the permalink of a page is its own address with `known_at`
replaced by the position it resolved to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from starlette.requests import Request

PINNING = ("known_at", "at_position")


@dataclass(frozen=True)
class Pin:
    position: int
    head: int
    recorded_at: datetime | None
    """When the event at `position` was recorded: the ledger's state is "as of" then."""

    @property
    def is_past(self) -> bool:
        return self.position < self.head


def page_address(request: Request, path: str | None = None, **changes: str | None) -> str:
    """This page's address (or `path`'s) with its non-empty fields, `changes` applied
    (a None removes a field)."""
    params = {k: v for k, v in request.query_params.items() if v.strip()}
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    query = urlencode(params)
    return f"{path or request.url.path}{'?' + query if query else ''}"


def permalink(request: Request, pin: Pin) -> str:
    """The absolute address of this page pinned at the position it shows."""
    base = str(request.base_url).rstrip("/")
    return base + page_address(request, known_at=None, at_position=str(pin.position))


def cite_line(title: str, pin: Pin, link: str, today: date | None = None) -> str:
    """Labor Ledger, "Workers reported sent to Russia in 2023", log position 9 (recorded
    by 2026-12-03 10:00 UTC), <link>, retrieved 2026-12-03."""
    when = f" (recorded by {pin.recorded_at:%Y-%m-%d %H:%M} UTC)" if pin.recorded_at else ""
    retrieved = (today or datetime.now(UTC).date()).isoformat()
    return (
        f"Labor Ledger, “{title}”, log position {pin.position}{when}, {link}, "
        f"retrieved {retrieved}."
    )
