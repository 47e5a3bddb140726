"""A place as an event names it, before and after the gazetteer resolves it."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from service.domain.errors import FieldValueError


@cache  # pycountry's lookup costs more than the rest of validating a place
def _known_country(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


CountryCode = Annotated[
    str,
    Field(pattern=r"^[A-Z]{2}$", examples=["RU"]),
    AfterValidator(_known_country),
]


class PlaceKind(StrEnum):
    country = "country"
    region = "region"
    area = "area"  # a common name for several regions: the Russian Far East, Donbas
    city = "city"
    district = "district"  # part of a city
    crossing = "crossing"


class Place(BaseModel):
    """A place named in a report.

    Send `name` as the report wrote it (any of English, Russian, Korean or
    Chinese, or a common spelling), optionally with `country` to tell apart
    places of one name, or send a gazetteer `place_id`. The server resolves it
    and stores `place_id`, `country` and `kind`; an unknown name is a 422 that
    lists the closest matches.
    """

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Moscow"])
    place_id: str | None = Field(default=None, max_length=100, examples=["ru-moscow"])
    country: CountryCode | None = None
    kind: PlaceKind | None = None

    @model_validator(mode="after")
    def _named_somehow(self) -> Place:
        if self.name is None and self.place_id is None:
            raise FieldValueError("name", "give the place's name or its place_id")
        return self
