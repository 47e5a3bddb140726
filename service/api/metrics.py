"""`/metrics` for Prometheus: what this process has recorded and served."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

router = APIRouter(include_in_schema=False)

EVENTS_APPENDED = Counter(
    "ledger_events_appended", "Events recorded by this process, by type.", ["type"]
)
APPENDS_REPLAYED = Counter(
    "ledger_appends_replayed", "POSTs answered from an Idempotency-Key's first result."
)


@router.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
