"""Small builders of valid request bodies, so each test states only what it is about."""

from __future__ import annotations

from typing import Any

SOURCE_ID = "dailynk-2023-05-nk-workers-russia"


def source_body(source_id: str = SOURCE_ID, **data: Any) -> dict[str, Any]:
    return {
        "type": "source.recorded",
        "provenance": {"source_id": source_id, "locator": "headline"},
        "data": {
            "source_id": source_id,
            "outlet": "Daily NK",
            "title": "North Korea sends hundreds of new workers to Russia",
            "language": "en",
            **data,
        },
    }


def dispatch_body(
    source_id: str = SOURCE_ID,
    destinations: list[str] | None = None,
    count: dict[str, Any] | None = None,
    **data: Any,
) -> dict[str, Any]:
    return {
        "type": "workers.dispatched",
        "provenance": {
            "source_id": source_id,
            "locator": "About 350 workers went to Moscow and Saint Petersburg",
            "reporting_basis": "anonymous_source_in_country",
        },
        "data": {
            "destinations": [{"name": n} for n in (destinations or ["Moscow", "Saint Petersburg"])],
            "count": count or {"text": "about 350", "qualifier": "approximately", "number": 350},
            "affiliation": "civilian",
            "period": {
                "start": "2023-03-20",
                "end": "2023-04-10",
                "text": "late March to early April",
            },
            **data,
        },
    }


def meta_body(kind: str, target: str, source_id: str = SOURCE_ID, **data: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "provenance": {"source_id": source_id, "locator": "editor's note"},
        "data": {"target_event_id": target, **data},
    }
