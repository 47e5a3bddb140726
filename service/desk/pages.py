"""The desk's pages: each reads its form, asks one view at the pinned position, renders.

Every page takes the two time axes (`as_of`; `known_at` or `at_position`) and shows
its permalink; a field that cannot be read is a 422 page naming it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, FastAPI, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.requests import Request

from service.api.compression import PrecompressedFiles
from service.api.deps import LedgerDep
from service.api.serving.csv_cells import safe_row
from service.api.serving.representations import Rendered, accepts_gzip
from service.desk.answer import TABLE_COLUMNS, Answer, CityAnswer, answer, asked, geojson
from service.desk.charts import map_chart, timeline_chart
from service.desk.describe import describe_event, kind_of, quote_of
from service.desk.evidence import gather_evidence, sources_at
from service.desk.pinning import Pin, page_address
from service.desk.question import (
    DeskInputError,
    Question,
    TimeTravel,
    find_country,
    read_position,
    read_question,
    read_time_travel,
    text_field,
)
from service.desk.records import recorded_at
from service.desk.rendering import ASSETS, ASSETS_URL, country_names, render_page
from service.domain.envelope import RecordedEvent
from service.domain.events import META_TYPES, EventType
from service.ledger import Ledger
from service.log.positions import resolve_position
from service.log.read import read_event
from service.views.deployments.fold import DeploymentQuery
from service.views.deployments.queries import deployments_view
from service.views.deployments.timeline import timeline_view
from service.views.entries.queries import EntriesQuery, entries_view
from service.views.estimates.queries import EstimatesQuery, estimates_view
from service.views.remittances.queries import RemittancesQuery, remittances_view
from service.views.sources.queries import fact_history, source_detail_page, sources_view
from service.views.statements.claims import claims_beside
from service.views.statements.queries import StatementsQuery, statements_view
from service.views.wages.queries import WagesQuery, wages_view

router = APIRouter(include_in_schema=False)

FACTS_PER_PAGE = 200
"""A source's facts listed on one page (a source of a large log may hold tens of
thousands): the page links to the next ones."""
REPORTS_PER_PAGE = 100
"""The reports behind one row of the answer listed on one page (`/reports`)."""

Page = Callable[[Connection, Pin, TimeTravel], Response]


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params.items())


def _pinned(conn: Connection, travel: TimeTravel) -> Pin:
    position, head = resolve_position(
        conn, known_at=travel.known_at, at_position=travel.at_position
    )
    return Pin(position, head, recorded_at(conn, position))


def _serve(request: Request, ledger: Ledger, page: Page) -> Response:
    """Read the time axes, pin the position, build the page; bad input is a 422 page.

    A page is kept, as the JSON views are, for the head it was made at (and the day and
    address it names in its "cite this" line): read again before anything is recorded,
    it is sent as made."""
    try:
        travel = read_time_travel(_params(request))
        with ledger.engine.connect() as conn:
            pin = _pinned(conn, travel)
            key = (
                "desk",
                str(request.url),
                pin.position,
                pin.head,
                datetime.now(UTC).date(),
            )
            kept: Rendered | None = ledger.views.get(key)
            if kept is not None:
                return _sent(kept, request)
            made = page(conn, pin, travel)
        if made.status_code == 200 and not isinstance(made, RedirectResponse):
            headers = tuple(
                (name, value)
                for name, value in made.headers.items()
                if name.lower() == "content-disposition"
            )
            kept = Rendered(bytes(made.body), made.media_type or "text/html", headers)
            kept = kept.compressed()
            ledger.views.put(key, kept)
            return _sent(kept, request)
        return made
    except DeskInputError as error:
        return render_page(
            request,
            "problem.html",
            "The question could not be read",
            None,
            status=422,
            error=error,
            countries=country_names(ledger.gazetteer),
        )


def _sent(kept: Rendered, request: Request) -> Response:
    """A page as kept: gzipped for a reader that takes it (the map runs to 150 kB)."""
    headers = {**dict(kept.headers), "Vary": "Accept-Encoding"}
    if kept.gzipped is not None and accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return Response(kept.gzipped, media_type=kept.media_type, headers=headers)
    return Response(kept.content, media_type=kept.media_type, headers=headers)


def _answer(
    request: Request, ledger: Ledger, conn: Connection, pin: Pin, travel: TimeTravel
) -> tuple[Question, Answer]:
    question = read_question(_params(request), ledger.gazetteer)
    query = DeploymentQuery(position=pin.position, as_of=travel.as_of)
    found = answer(
        conn, ledger.gazetteer, ledger.folds, question, query, pin.head, ledger.row_fragments
    )
    return question, found


@router.get("/", response_class=HTMLResponse)
def answer_page(request: Request, ledger: LedgerDep) -> Response:
    """How many workers were reported sent where, and who said so."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        question, found = _answer(request, ledger, conn, pin, travel)
        # Beside the answer, never in it: arrivals counted at a border, pay reported.
        code = question.country.code if question.country else None
        arrivals = entries_view(
            conn,
            EntriesQuery(
                country=code,
                period_from=question.period_from,
                period_to=question.period_to,
                as_of=travel.as_of,
            ),
            pin.position,
            pin.head,
        )
        claims = claims_beside(conn, asked(question, ("country",), pin.position, travel.as_of))
        wages = wages_view(
            conn, WagesQuery(country=code, as_of=travel.as_of), pin.position, pin.head
        )
        return render_page(
            request,
            "answer.html",
            found.title,
            pin,
            answer=found,
            question=question,
            columns=TABLE_COLUMNS,
            arrivals=arrivals,
            claims=claims,
            wages=wages,
            country_name=lambda code: _country_name(ledger, code),
            countries=country_names(ledger.gazetteer),
            reports_address=_reports_addresses(request, pin),
        )

    return _serve(request, ledger, page)


def _workers(affiliation: str | None) -> str:
    if affiliation == "unknown":
        return "workers of an affiliation not reported"
    return f"{affiliation} workers" if affiliation else "workers"


def _reports_addresses(request: Request, pin: Pin) -> Callable[[CityAnswer], str]:
    """Each city's page of reports, pinned where the answer is: the same reports. (The
    question's part of the address is made once: a table has hundreds of cities.)"""
    asked = page_address(
        request,
        "/reports",
        place=None,
        affiliation=None,
        known_at=None,
        at_position=str(pin.position),
    )

    def address(city: CityAnswer) -> str:
        row = {"place": city.place_id or "", "affiliation": city.row.affiliation or ""}
        return f"{asked}&{urlencode({k: v for k, v in row.items() if v})}"

    return address


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, ledger: LedgerDep) -> Response:
    """Every report behind one row of the answer (a place, an affiliation), a page of
    them at a time: a city of a large ledger has thousands."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        params = _params(request)
        question = read_question(params, ledger.gazetteer)
        place = ledger.gazetteer.get(text_field(params, "place") or "")
        if place is None:
            raise DeskInputError("place", "give a place's id, as the answer's table links it")
        after = read_position(params, "after") or 0
        query = asked(question, ("place",), pin.position, travel.as_of)
        scope = {"place": place.id}
        if question.affiliation:
            scope["affiliation"] = question.affiliation
        evidence = gather_evidence(conn, query, scope, REPORTS_PER_PAGE, after)
        return render_page(
            request,
            "reports.html",
            f"Reports of {_workers(question.affiliation)} in {place.name} {question.period_words}",
            pin,
            evidence=evidence,
            place=place,
            question=question,
            after=after,
            listed=REPORTS_PER_PAGE,
        )

    return _serve(request, ledger, page)


@router.get("/answer.csv")
def answer_csv(request: Request, ledger: LedgerDep) -> Response:
    """The answer's table as CSV: the cells on screen, with source names and URLs."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        _, found = _answer(request, ledger, conn, pin, travel)
        out = io.StringIO()
        table = csv.DictWriter(out, fieldnames=TABLE_COLUMNS, lineterminator="\n")
        table.writeheader()
        table.writerows(safe_row(row) for row in found.table())
        return _download(out.getvalue(), "text/csv; charset=utf-8", "answer.csv", pin)

    return _serve(request, ledger, page)


@router.get("/answer.geojson")
def answer_geojson(request: Request, ledger: LedgerDep) -> Response:
    """The answer's cities as GeoJSON points with flat properties (`dispatched_min`, …)."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        _, found = _answer(request, ledger, conn, pin, travel)
        body = json.dumps(geojson(found), ensure_ascii=False, indent=1)
        return _download(body, "application/geo+json", "answer.geojson", pin)

    return _serve(request, ledger, page)


def _download(body: str, media_type: str, name: str, pin: Pin) -> Response:
    stem, _, suffix = name.rpartition(".")
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{stem}-at-{pin.position}.{suffix}"'
        },
    )


@router.get("/timeline", response_class=HTMLResponse)
def timeline_page(request: Request, ledger: LedgerDep) -> Response:
    """Workers reported sent per month or year: bounds as bands, plans beside them."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        params = _params(request)
        name = text_field(params, "country")
        country = find_country(ledger.gazetteer, name) if name else None
        interval = text_field(params, "interval") or "year"
        if interval not in ("month", "year"):
            raise DeskInputError("interval", "choose month or year")
        question = read_question({"affiliation": params.get("affiliation", "")}, ledger.gazetteer)
        query = DeploymentQuery(
            group_by=("country",),
            as_of=travel.as_of,
            countries=frozenset({country.code}) if country else None,
            affiliation=question.affiliation,
        )
        view = timeline_view(
            conn, query, "month" if interval == "month" else "year", pin.position, pin.head
        )
        groups = sorted({row.country or "" for row in view.rows})
        charts = [
            (
                code,
                timeline_chart(
                    f"Workers reported sent to {_country_name(ledger, code)}, per {interval}",
                    [row for row in view.rows if (row.country or "") == code],
                ),
            )
            for code in groups
        ]
        where = f"to {country.name}" if country else "abroad"
        return render_page(
            request,
            "timeline.html",
            f"Workers reported sent {where}, per {interval}",
            pin,
            view=view,
            charts=charts,
            interval=interval,
            country_name=lambda code: _country_name(ledger, code),
            countries=country_names(ledger.gazetteer),
        )

    return _serve(request, ledger, page)


def _country_name(ledger: Ledger, code: str | None) -> str:
    place = ledger.gazetteer.get(code.lower()) if code else None
    return place.name if place else (code or "unknown")


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, ledger: LedgerDep) -> Response:
    """Places as circles sized by the bounds of the workers reported sent there."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        question = read_question(_params(request), ledger.gazetteer)
        query = asked(question, ("place",), pin.position, travel.as_of)
        view = deployments_view(
            conn, ledger.gazetteer, query, pin.head, ledger.folds, fragments=ledger.row_fragments
        )
        return render_page(
            request,
            "map.html",
            f"Where workers were reported sent {question.where} {question.period_words}",
            pin,
            view=view,
            chart=map_chart(view.rows),
            question=question,
            countries=country_names(ledger.gazetteer),
        )

    return _serve(request, ledger, page)


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, ledger: LedgerDep) -> Response:
    """Every source the ledger has recorded."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        view = sources_view(conn, pin.position, pin.head)
        return render_page(request, "sources.html", "Sources", pin, view=view)

    return _serve(request, ledger, page)


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source_page(
    request: Request, ledger: LedgerDep, source_id: Annotated[str, Path(max_length=120)]
) -> Response:
    """One source: every fact taken from it, with its quote and what became of it."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        after = read_position(_params(request), "after") or 0
        detail, next_after = source_detail_page(
            conn, source_id, pin.position, pin.head, after=after, limit=FACTS_PER_PAGE
        )
        if detail is None:
            return _not_found(
                request, f"No source “{source_id}” was recorded by position {pin.position}.", pin
            )
        card = sources_at(conn, [source_id], pin.position).get(source_id)
        return render_page(
            request,
            "source.html",
            card.title or card.outlet if card else source_id,
            pin,
            detail=detail,
            card=card,
            after=after,
            next_after=next_after,
            describe=describe_event,
            kind_of=kind_of,
            quote_of=quote_of,
        )

    return _serve(request, ledger, page)


@router.get("/facts/{event_id}", response_class=HTMLResponse)
def fact_page(request: Request, ledger: LedgerDep, event_id: UUID) -> Response:
    """One fact: its words, its source, and its history (corrections, retraction,
    corroborations)."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        event = read_event(conn, event_id)
        if event is None or event.position > pin.position:
            return _not_found(
                request, f"No event {event_id} was recorded by position {pin.position}.", pin
            )
        if event.type == EventType.source_recorded.value:
            return RedirectResponse(f"/sources/{event.source_id}", status_code=303)
        if event.type in META_TYPES:
            target = str(event.data.get("target_event_id", ""))
            return RedirectResponse(f"/facts/{target}", status_code=303)
        fact = fact_history(conn, event, pin.position)
        others = {c.source_id for c in fact.corroborations}
        cards = sources_at(conn, {event.source_id, *others}, pin.position)
        return render_page(
            request,
            "fact.html",
            f"{kind_of(event.type).capitalize()}: {_fact_now(fact.event, fact.corrections)}",
            pin,
            fact=fact,
            cards=cards,
            describe=describe_event,
            kind_of=kind_of,
            quote_of=quote_of,
        )

    return _serve(request, ledger, page)


def _fact_now(event: RecordedEvent, corrections: list[RecordedEvent]) -> str:
    """A fact as it stands: by its latest correction, if any."""
    if corrections:
        return describe_event(corrections[-1], event.type)
    return describe_event(event)


def _not_found(request: Request, message: str, pin: Pin) -> Response:
    return render_page(request, "not_found.html", "Not found", pin, status=404, message=message)


@router.get("/remittances", response_class=HTMLResponse)
def remittances_page(request: Request, ledger: LedgerDep) -> Response:
    """What workers were reported to have to send home, in USD with the rate's source."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        question = read_question(
            {"affiliation": _params(request).get("affiliation", "")}, ledger.gazetteer
        )
        query = RemittancesQuery(as_of=travel.as_of, affiliation=question.affiliation)
        view = remittances_view(conn, query, pin.position, pin.head)
        sources = {q.source_id for q in view.quotas}
        rates = {q.usd_rate.source_id for q in view.quotas if q.usd_rate}
        title = "Remittance quotas"
        return _view_page(
            request, ledger, conn, pin, "remittances.html", title, view, sources | rates
        )

    return _serve(request, ledger, page)


@router.get("/stocks", response_class=HTMLResponse)
def stocks_page(request: Request, ledger: LedgerDep) -> Response:
    """Stocks of workers as reported, beside the estimate of those present."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        query = EstimatesQuery(country=_asked_country(request, ledger), as_of=travel.as_of)
        view = estimates_view(conn, ledger.gazetteer, ledger.folds, query, pin.position, pin.head)
        sources = {s for e in view.estimates for s in e.sources}
        title = "Reported stocks of workers"
        return _view_page(request, ledger, conn, pin, "stocks.html", title, view, sources)

    return _serve(request, ledger, page)


@router.get("/statements", response_class=HTMLResponse)
def statements_page(request: Request, ledger: LedgerDep) -> Response:
    """Statements by officials, with the figures they stated."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        query = StatementsQuery(as_of=travel.as_of)
        view = statements_view(conn, query, pin.position, pin.head)
        sources = {s for statement in view.statements for s in statement.sources}
        return _view_page(
            request, ledger, conn, pin, "statements.html", "Statements", view, sources
        )

    return _serve(request, ledger, page)


@router.get("/entries", response_class=HTMLResponse)
def entries_page(request: Request, ledger: LedgerDep) -> Response:
    """Official counts of arrivals into a country: never counted as workers."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        query = EntriesQuery(country=_asked_country(request, ledger), as_of=travel.as_of)
        view = entries_view(conn, query, pin.position, pin.head)
        sources = {s for entry in view.entries for s in entry.sources}
        title = "Entry statistics"
        return _view_page(request, ledger, conn, pin, "entries.html", title, view, sources)

    return _serve(request, ledger, page)


@router.get("/wages", response_class=HTMLResponse)
def wages_page(request: Request, ledger: LedgerDep) -> Response:
    """What workers were reported to be promised or paid, in USD with the rate's source."""

    def page(conn: Connection, pin: Pin, travel: TimeTravel) -> Response:
        query = WagesQuery(country=_asked_country(request, ledger), as_of=travel.as_of)
        view = wages_view(conn, query, pin.position, pin.head)
        sources = {s for wage in view.wages for s in wage.sources}
        rates = {w.usd_rate.source_id for w in view.wages if w.usd_rate}
        return _view_page(request, ledger, conn, pin, "wages.html", "Wages", view, sources | rates)

    return _serve(request, ledger, page)


def _asked_country(request: Request, ledger: Ledger) -> str | None:
    """The code of the country the form names, if it names one (a name not known is a 422
    page naming the field)."""
    name = text_field(_params(request), "country")
    return find_country(ledger.gazetteer, name).code if name else None


def _view_page(
    request: Request,
    ledger: Ledger,
    conn: Connection,
    pin: Pin,
    template: str,
    title: str,
    view: BaseModel,
    sources: set[str],
) -> Response:
    """A view's page: a card for each source it cites, as it stood at the pin (and, for
    the pages asked of a country, the form's list of countries and their names)."""
    return render_page(
        request,
        template,
        title,
        pin,
        view=view,
        cards=sources_at(conn, sources, pin.position),
        country_name=lambda code: _country_name(ledger, code),
        countries=country_names(ledger.gazetteer),
    )


def mount_desk(app: FastAPI) -> None:
    """The desk at `/`, its stylesheet under /desk/assets."""
    app.mount(ASSETS_URL, PrecompressedFiles(directory=ASSETS), name="desk-assets")
    app.include_router(router)


__all__ = ["mount_desk"]
