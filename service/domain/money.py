"""Amounts of money as decimals with ISO 4217 codes: never floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _known_currency(code: str) -> str:
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


CurrencyCode = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", examples=["RUB"]),
    AfterValidator(_known_currency),
]


class Money(BaseModel):
    """`{"amount": "45000", "currency": "RUB"}`: amount as a decimal string."""

    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(ge=0, max_digits=20, decimal_places=6, examples=["45000"])
    currency: CurrencyCode
