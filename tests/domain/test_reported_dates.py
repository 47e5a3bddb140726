"""A date a report gives lies between 1945 and ten years from today; a payload the log
already holds is read as it was recorded, whatever its dates."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from service.domain.events import EventType
from service.domain.examples import seed_bodies
from service.domain.moments import latest_reported
from service.domain.payloads import WorkersDispatched
from service.domain.readers import read_payload


def seed_dispatch(**period: Any) -> dict[str, Any]:
    body = next(b for b in seed_bodies() if b["type"] == EventType.workers_dispatched)
    data: dict[str, Any] = read_payload(body["type"], 1, body["data"]).model_dump(mode="json")
    data["period"] = {**data["period"], **period}
    return data


def test_a_new_payload_dated_year_1_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        WorkersDispatched.model_validate(seed_dispatch(start="0001-01-01"))
    assert refused.value.errors()[0]["loc"] == ("period", "start")


def test_a_stored_payload_outside_the_years_is_read_as_recorded() -> None:
    # given a dispatch an earlier version of the ledger accepted, dated year 1 to 9999
    stored = seed_dispatch(start="0001-01-01", end="9999-12-31")
    # when the log is read (a rebuild, a view, an export), then it reads as recorded
    payload = read_payload(EventType.workers_dispatched.value, 1, stored)
    assert isinstance(payload, WorkersDispatched)
    assert (payload.period.start, payload.period.end) == (date(1, 1, 1), date(9999, 12, 31))


@pytest.mark.parametrize(
    ("today", "last"),
    [
        (date(2025, 6, 1), date(2035, 6, 1)),
        (date(2028, 2, 29), date(2038, 2, 28)),  # no 29 February in 2038
    ],
)
def test_the_last_day_allowed_is_ten_years_from_today(today: date, last: date) -> None:
    assert latest_reported(today) == last
