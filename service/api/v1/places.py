"""`/v1/places`: look up the gazetteer in English, Russian, Korean or Chinese."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from service.api.countries import CountryDep
from service.api.deps import LedgerDep
from service.api.problems import problem_responses
from service.api.serving.links import link_next, page_link
from service.domain.places import PlaceKind
from service.gazetteer import GazetteerPlace, MatchKind, PlaceMatch

router = APIRouter(prefix="/v1/places", tags=["places"])

MAX_OFFSET = 100_000


class PlaceOut(BaseModel):
    id: str
    kind: PlaceKind
    country: str
    parent: str | None
    lat: float
    lon: float
    names: dict[str, str]
    aliases: list[str]
    members: list[str] = Field(
        description="An area's places (the regions it spans); they, and what they hold, "
        "are inside it for the `place` filter and the duplicate check. Empty for others."
    )
    controlled_by: str | None
    controlled_since: str | None

    @classmethod
    def of(cls, place: GazetteerPlace) -> PlaceOut:
        return cls.model_validate(place.model_dump(exclude={"note"}))


class PlaceHit(BaseModel):
    place: PlaceOut
    matched: str = Field(description="The name or spelling that matched.")
    score: float = Field(description="1.0 for a name or alias; below 1 for the rest.")
    match: MatchKind = Field(
        description="`exact` (the id or a name), `alias` (a common spelling) or `fuzzy` "
        "(the start of a name, or a name spelt nearly so)."
    )
    suggestion: bool = Field(
        default=False,
        description="True for a weak likeness, listed only when nothing matched: "
        "a place to check, never an answer.",
    )

    @classmethod
    def of(cls, hit: PlaceMatch, suggestion: bool = False) -> PlaceHit:
        return cls(
            place=PlaceOut.of(hit.place),
            matched=hit.matched,
            score=hit.score,
            match=hit.match,
            suggestion=suggestion,
        )


@router.get("", summary="Find places by name", responses=problem_responses(422))
def search_places(
    request: Request,
    response: Response,
    ledger: LedgerDep,
    q: Annotated[
        str | None,
        Query(max_length=200, description="A name in any language", examples=["블라디보스토크"]),
    ] = None,
    country: CountryDep = None,
    kind: PlaceKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Places per page.")] = 20,
    offset: Annotated[
        int,
        Query(ge=0, le=MAX_OFFSET, description="Skip this many (the next page's link counts)."),
    ] = 0,
) -> list[PlaceHit]:
    """Places whose name matches `q` in English, Russian, Korean or Chinese, or a common
    spelling ("St. Petersburg", "Санкт-Петербург"); names and aliases first (`match`
    `exact` or `alias`, score 1.0), then places whose name `q` begins or spells nearly
    (`fuzzy`: "Wladiwostock" finds Vladivostok at 0.84).

    A weaker likeness is never a result: only when nothing matches does the list hold
    the closest places, each with `suggestion: true` ("Hunchun Jingxin", a town the
    gazetteer lacks, suggests Hunchun). Areas that span several regions are places too
    (`kind: area`: "Russian Far East", "극동", "Donbas", "东北三省"), and so are districts
    of a city. Without `q`, every place (filtered by `country` and `kind`).

    `limit` places at a time (20 unless you ask for up to 500): when there are more, the
    answer's `Link` header names the next page (`<…&offset=20>; rel="next"`); the last
    page has none."""
    gazetteer = ledger.gazetteer
    end = offset + limit
    found: list[PlaceHit]
    if q:
        only = kind.value if kind else None
        # One more than the page holds: whether a next page exists.
        hits = gazetteer.search(q, country=country, kind=only, limit=end + 1)
        if not hits:
            weak = gazetteer.suggestions(q, country=country, kind=only, limit=min(limit, 5))
            return [PlaceHit.of(h, suggestion=True) for h in weak]
        found = [PlaceHit.of(h) for h in hits[offset : end + 1]]
    else:
        every = [
            p
            for p in gazetteer.all()
            if (country is None or p.country == country) and (kind is None or p.kind == kind)
        ]
        found = [
            PlaceHit(place=PlaceOut.of(p), matched=p.name, score=1.0, match="exact")
            for p in every[offset : end + 1]
        ]
    link_next(response, page_link(request, offset=end) if len(found) > limit else None)
    return found[:limit]


@router.get("/{place_id}", summary="One place", responses=problem_responses(404))
def get_place(place_id: str, ledger: LedgerDep) -> PlaceOut:
    """A place by its gazetteer id, e.g. `ru-vladivostok`."""
    place = ledger.gazetteer.get(place_id)
    if place is None:
        raise HTTPException(404, f"No place has the id {place_id!r}.")
    return PlaceOut.of(place)
