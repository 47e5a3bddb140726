"""`/v1/places`: look up the gazetteer in English, Russian, Korean or Chinese."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from service.api.deps import LedgerDep
from service.api.problems import problem_responses
from service.domain.places import PlaceKind
from service.gazetteer import GazetteerPlace

router = APIRouter(prefix="/v1/places", tags=["places"])


class PlaceOut(BaseModel):
    id: str
    kind: PlaceKind
    country: str
    parent: str | None
    lat: float
    lon: float
    names: dict[str, str]
    aliases: list[str]
    controlled_by: str | None
    controlled_since: str | None

    @classmethod
    def of(cls, place: GazetteerPlace) -> PlaceOut:
        return cls.model_validate(place.model_dump(exclude={"note"}))


class PlaceHit(BaseModel):
    place: PlaceOut
    matched: str
    score: float


@router.get("", summary="Find places by name", responses=problem_responses(422))
def search_places(
    ledger: LedgerDep,
    q: Annotated[
        str | None,
        Query(max_length=200, description="A name in any language", examples=["블라디보스토크"]),
    ] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    kind: PlaceKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[PlaceHit]:
    """Places whose name matches `q` in English, Russian, Korean or Chinese, or a common
    spelling ("St. Petersburg", "Санкт-Петербург"); exact matches first, then close ones.
    Without `q`, every place (filtered by `country` and `kind`)."""
    gazetteer = ledger.gazetteer
    if q:
        hits = gazetteer.search(q, country=country, kind=kind.value if kind else None, limit=limit)
        return [
            PlaceHit(place=PlaceOut.of(h.place), matched=h.matched, score=h.score) for h in hits
        ]
    every = [
        p
        for p in gazetteer.all()
        if (country is None or p.country == country.upper()) and (kind is None or p.kind == kind)
    ]
    return [PlaceHit(place=PlaceOut.of(p), matched=p.name, score=1.0) for p in every[:limit]]


@router.get("/{place_id}", summary="One place", responses=problem_responses(404))
def get_place(place_id: str, ledger: LedgerDep) -> PlaceOut:
    """A place by its gazetteer id, e.g. `ru-vladivostok`."""
    place = ledger.gazetteer.get(place_id)
    if place is None:
        raise HTTPException(404, f"No place has the id {place_id!r}.")
    return PlaceOut.of(place)
