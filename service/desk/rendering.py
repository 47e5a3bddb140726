"""The desk's templates and the parts every page shows: the navigation, the time
travel form, the permalink and the "cite this" line."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from service.desk import words
from service.desk.pinning import Pin, cite_line, page_address, permalink
from service.gazetteer import Gazetteer

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
ASSETS_URL = "/desk/assets"

TIME_FIELDS = ("as_of", "known_at", "at_position")
NAVIGATION = (
    ("/", "Answer"),
    ("/timeline", "Timeline"),
    ("/map", "Map"),
    ("/sources", "Sources"),
    ("/remittances", "Remittances"),
    ("/stocks", "Stocks"),
    ("/statements", "Statements"),
    ("/entries", "Entries"),
    ("/wages", "Wages"),
)
LANGUAGES = {"en": "English", "ru": "Russian", "ko": "Korean", "zh": "Chinese"}

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(
    navigation=NAVIGATION,
    languages=LANGUAGES,
    assets=ASSETS_URL,
    range_cell=words.range_cell,
    reported_cell=words.reported_cell,
    number=words.number,
    how_many=words.how_many,
)


@cache
def country_names(gazetteer: Gazetteer) -> list[tuple[str, str]]:
    """(name, language) of every country in the four languages, for the form's list."""
    return sorted(
        {
            (name, language)
            for place in gazetteer.all()
            if place.kind == "country"
            for language, name in place.names.items()
            if language in LANGUAGES
        }
    )


def travel_address(request: Request, path: str) -> str:
    """`path` with this page's time axes only: moving between pages keeps the time."""
    kept = {k: v for k, v in request.query_params.items() if k in TIME_FIELDS and v.strip()}
    return f"{path}?{urlencode(kept)}" if kept else path


def render_page(
    request: Request,
    template: str,
    title: str,
    pin: Pin | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    link = permalink(request, pin) if pin is not None else None
    response = templates.TemplateResponse(
        request,
        template,
        {
            "title": title,
            "pin": pin,
            "permalink": link,
            "cite": cite_line(title, pin, link) if pin is not None and link else None,
            "address": lambda path=None, **changes: page_address(request, path, **changes),
            "pinned_address": lambda path: travel_address(request, path),
            "params": {k: v for k, v in request.query_params.items()},
            **context,
        },
        status_code=status,
    )
    return response
