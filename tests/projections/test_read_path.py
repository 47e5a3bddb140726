"""The fast read path of `/v1/deployments`: cached bytes, a fresh head, one fold at a time."""

from __future__ import annotations

import asyncio
import threading

from alembic import command
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.db.migrate import alembic_config
from service.domain.events import EventIn, EventInBase
from service.ingest.submit import new_events
from service.ledger import Ledger
from service.log.head import HeadReader, ViewHead
from service.views.cache import ViewCache
from tests.factories import dispatch_body, source_body

EVENT = TypeAdapter[EventInBase](EventIn)


def append_elsewhere(ledger: Ledger, *bodies: dict[str, object]) -> None:
    """Append through the store directly, as another service process would."""
    events = new_events([EVENT.validate_python(b) for b in bodies], ledger.gazetteer)
    ledger.store.append(events, principal="elsewhere")


def moscow(view: dict[str, object]) -> dict[str, object] | None:
    rows = view["rows"]
    assert isinstance(rows, list)
    return next((r for r in rows if r["place"]["place_id"] == "ru-moscow"), None)


def test_a_read_after_another_process_appends_shows_the_new_fact(
    client: TestClient, ledger: Ledger
) -> None:
    append_elsewhere(ledger, source_body())
    before = client.get("/v1/deployments")
    assert client.get("/v1/deployments").json() == before.json()  # now from the cache
    assert moscow(before.json()) is None

    append_elsewhere(ledger, dispatch_body(destinations=["Moscow"]))
    after = client.get("/v1/deployments")

    assert after.json()["head"] == before.json()["head"] + 1
    row = moscow(after.json())
    assert row is not None
    assert row["dispatched"]["max"] == 385
    assert after.headers["etag"] != before.headers["etag"]


def test_a_repeated_read_answers_the_same_view_and_the_same_etag(
    client: TestClient, ledger: Ledger
) -> None:
    append_elsewhere(ledger, source_body(), dispatch_body())
    first = client.get("/v1/deployments", params={"group_by": "place"})
    second = client.get("/v1/deployments", params={"group_by": "place"})
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    not_modified = client.get(
        "/v1/deployments",
        params={"group_by": "place"},
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert not_modified.status_code == 304


def test_a_client_that_accepts_gzip_gets_the_view_compressed(
    client: TestClient, ledger: Ledger
) -> None:
    cities = ["Moscow", "Saint Petersburg", "Vladivostok", "Kazan", "Khabarovsk"]
    append_elsewhere(ledger, source_body(), *[dispatch_body(destinations=[c]) for c in cities])
    for _ in range(2):  # computed, then repeated
        plain = client.get("/v1/deployments", headers={"Accept-Encoding": "identity"})
        packed = client.get("/v1/deployments", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in plain.headers
        assert packed.headers["content-encoding"] == "gzip"
        vary = {name.strip() for name in packed.headers["vary"].split(",")}
        assert {"Accept", "Accept-Encoding"} <= vary
        assert packed.json() == plain.json()  # httpx takes the gzip off


def test_a_repeated_read_keeps_each_media_type_apart(client: TestClient, ledger: Ledger) -> None:
    append_elsewhere(ledger, source_body(), dispatch_body())
    for _ in range(2):
        assert client.get("/v1/deployments").headers["content-type"] == "application/json"
        as_csv = client.get("/v1/deployments", headers={"Accept": "text/csv"})
        assert as_csv.headers["content-type"].startswith("text/csv")
        assert as_csv.text.startswith("country,place_id,")


def test_an_invalid_query_is_refused_every_time(client: TestClient, ledger: Ledger) -> None:
    append_elsewhere(ledger, source_body())
    client.get("/v1/deployments")
    for _ in range(2):
        refused = client.get("/v1/deployments", params={"group_by": "city"})
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"


def test_a_place_named_twice_in_one_report_counts_once_and_is_not_shared(
    client: TestClient, ledger: Ledger
) -> None:
    exact = {"text": "120", "qualifier": "exact", "number": 120}
    append_elsewhere(
        ledger, source_body(), dispatch_body(destinations=["Moscow", "Moscow"], count=exact)
    )
    row = moscow(client.get("/v1/deployments", params={"group_by": "place"}).json())
    assert row is not None
    assert row["dispatched"] == {"min": 120, "best": 120, "max": 120, "best_complete": True}
    assert row["shared"] == []
    [russia] = client.get("/v1/deployments", params={"group_by": "country"}).json()["rows"]
    assert russia["dispatched"]["max"] == 120


def test_readers_arriving_together_share_one_fold() -> None:
    cache = ViewCache()
    folds: list[int] = []
    started, release = threading.Event(), threading.Event()

    def fold() -> str:
        folds.append(1)
        started.set()
        release.wait()
        return "view"

    answers: list[str] = []
    first = threading.Thread(target=lambda: answers.append(cache.get_or_compute("k", fold)))
    first.start()
    started.wait()
    others = [
        threading.Thread(target=lambda: answers.append(cache.get_or_compute("k", fold)))
        for _ in range(7)
    ]
    for reader in others:
        reader.start()
    release.set()
    for reader in [first, *others]:
        reader.join()
    assert answers == ["view"] * 8
    assert len(folds) == 1


class CountingHead(HeadReader):
    """Each read answers how many reads there have been."""

    reads = 0

    def read(self) -> ViewHead:
        self.reads += 1
        return ViewHead(self.reads, 0)


def test_callers_asking_together_share_a_head_read_and_later_ones_get_a_new_one(
    ledger: Ledger,
) -> None:
    head = CountingHead(ledger.engine)

    async def ask() -> tuple[list[int], int]:
        together = await asyncio.gather(*[head.current() for _ in range(10)])
        return [h.position for h in together], (await head.current()).position

    together, later = asyncio.run(ask())
    assert together == [1] * 10
    assert later == 2


def test_the_migration_fills_in_how_existing_rows_share_their_count(database_url: str) -> None:
    """A ledger migrated from before 0004 gets the same sharing columns a rebuild writes."""
    engine = create_engine(make_url(database_url))
    config = alembic_config(database_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
    rows = [  # one fact at Moscow, Moscow again and Saint Petersburg; one at Kazan
        (1, "f1", "ru-moscow"),
        (2, "f1", "ru-moscow"),
        (3, "f1", "ru-saint-petersburg"),
        (4, "f2", "ru-kazan"),
    ]
    with engine.begin() as conn:
        for row_id, fact, place in rows:
            conn.execute(
                text(
                    "INSERT INTO flow_contributions (id, fact_id, position, kind, place_id, "
                    "country, affiliation, places_in_fact, count_min, period_start, source_id) "
                    "VALUES (:id, :fact, 1, 'dispatched', :place, 'RU', 'civilian', 3, 1, "
                    "'2023-01-01', 's')"
                ),
                {"id": row_id, "fact": _uuid(fact), "place": place},
            )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT id, distinct_places, distinct_countries, first_of_place, "
                "first_of_country, first_of_fact FROM flow_contributions ORDER BY id"
            )
        ).all()
    engine.dispose()
    assert [tuple(r[1:3]) for r in found] == [(2, 1), (2, 1), (2, 1), (1, 1)]
    assert [tuple(bool(v) for v in r[3:]) for r in found] == [
        (True, True, True),
        (False, False, False),
        (True, False, False),
        (True, True, True),
    ]


def _uuid(name: str) -> str:
    """A fact id as each backend stores a UUID (hex on SQLite, uuid on PostgreSQL)."""
    return {"f1": "0" * 31 + "1", "f2": "0" * 31 + "2"}[name]


def test_the_view_cache_keeps_within_its_byte_budget_dropping_the_least_recent() -> None:
    cache = ViewCache(weigh=len, max_weight=10)
    cache.put("a", b"xxxx")
    cache.put("b", b"xxxx")
    assert cache.get("a") == b"xxxx"  # "a" is now the more recent

    cache.put("c", b"xxxx")  # 12 bytes: over the budget

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"xxxx", None, b"xxxx")


def test_a_view_larger_than_the_whole_budget_is_still_kept_alone() -> None:
    cache = ViewCache(weigh=len, max_weight=10)
    cache.put("small", b"x")

    cache.put("large", b"x" * 50)

    assert cache.get("large") == b"x" * 50
    assert cache.get("small") is None
