"""The baseline of the throughput benchmark: a bare FastAPI endpoint, small JSON body.

Served exactly as the ledger is (`uvicorn tests.bench.bare_app:create_app --factory`,
one worker), so the ratio measures what the ledger's read path adds.
"""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/bare")
    async def bare() -> dict[str, object]:
        return {"status": "ok", "position": 1_000_000, "rows": [{"place": "ru-moscow"}]}

    return app
