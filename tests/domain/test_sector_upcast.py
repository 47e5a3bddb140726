"""Version 2 of `workforce.estimated` and `remittance.quota_reported` added `sector`
(DESIGN §1b): a stored version 1 stock or quota is read as version 2 with no sector, its
other fields as recorded; the stored payload itself never changes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from service.domain.events import EventType
from service.domain.payloads import RemittanceQuotaReported, WorkforceEstimated
from service.domain.readers import current_version, read_payload, upcast

V1_STOCK: dict[str, Any] = {
    "place": {"name": "Russia", "place_id": "ru", "country": "RU", "kind": "country"},
    "count": {
        "text": "about 20,000",
        "qualifier": "approximately",
        "number": 20000,
        "min": 18000,
        "best": 20000,
        "max": 22000,
        "bounds_rule": "approximately",
    },
    "affiliation": "unknown",
    "as_of": "2023-04-28",
    "notes": None,
}
V1_QUOTA: dict[str, Any] = {
    "affiliation": "military",
    "organisation": None,
    "amount": {"amount": "45000", "currency": "RUB"},
    "per": "month",
    "per_worker": True,
    "recipient": None,
    "purpose": "party funds",
    "places": [],
    "period": None,
}


@pytest.mark.parametrize(
    ("kind", "stored", "model"),
    [
        (EventType.workforce_estimated, V1_STOCK, WorkforceEstimated),
        (EventType.remittance_quota_reported, V1_QUOTA, RemittanceQuotaReported),
    ],
)
def test_a_stored_version_1_stock_or_quota_reads_as_version_2_without_a_sector(
    kind: EventType, stored: dict[str, Any], model: type[Any]
) -> None:
    kept = copy.deepcopy(stored)
    assert current_version(kind.value) == 2

    payload = read_payload(kind.value, 1, stored)

    assert isinstance(payload, model)
    assert payload.sector is None
    as_v2 = upcast(kind.value, 1, stored)
    assert as_v2["sector"] is None
    assert {k: v for k, v in as_v2.items() if k != "sector"} == stored
    assert stored == kept  # the stored payload is never changed


def test_a_version_2_quota_keeps_its_sector_when_read() -> None:
    stored = {**V1_QUOTA, "sector": "construction", "per": "once"}
    payload = read_payload(EventType.remittance_quota_reported.value, 2, stored)
    assert isinstance(payload, RemittanceQuotaReported)
    assert (payload.sector, payload.per.value) == ("construction", "once")
