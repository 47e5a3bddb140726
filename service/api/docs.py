"""The pages that document the API: Swagger UI, served from the package so that it works
with no internet, and a page for each problem type (`/problems/{slug}`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from service.api.compression import PrecompressedFiles
from service.api.problem_pages import router as problem_pages

STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = "/static/swagger-ui"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Labor Ledger API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        swagger_ui_parameters={
            "persistAuthorization": True,
            "displayRequestDuration": True,
            "tryItOutEnabled": True,
        },
    )


def mount_docs(app: FastAPI) -> None:
    app.mount("/static", PrecompressedFiles(directory=STATIC), name="static")
    app.include_router(router)
    app.include_router(problem_pages)
