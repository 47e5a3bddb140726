"""The desk's pages, asked as a browser asks them (on SQLite and PostgreSQL): the answer
in words made from the view's own numbers, the sources behind each number, downloads
equal to the table, time travel with permalinks, and bad input as a 422 page."""

from __future__ import annotations

import csv
import io
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.desk import evidence
from service.desk import pages as desk_pages
from service.domain.events import EventType
from service.domain.examples import event_examples, illustration_source, statement_with_claims
from service.ledger import Ledger
from service.views.cache import ViewCache
from service.views.deployments.incremental import IncrementalFolds
from service.views.deployments.row_json import RowFragments
from tests.desk.pages import links, main, table, text
from tests.factories import dispatch_body, meta_body

RUSSIA_2023 = {"country": "Russia", "year": "2023"}
SOURCE = "dailynk-2023-05-nk-workers-russia"
Headers = dict[str, str]


def _country_total(client: TestClient, **params: str) -> dict[str, Any]:
    answer = client.get(
        "/v1/deployments",
        params={"group_by": "country", "country": "RU", **params},
    ).json()
    (row,) = answer["rows"]
    return row["dispatched"]  # type: ignore[no-any-return]


def test_the_answer_says_the_bounds_of_the_view_in_words(
    client: TestClient, seeded: Ledger
) -> None:
    total = _country_total(client, period_from="2023-01-01", period_to="2023-12-31")

    page = client.get("/", params=RUSSIA_2023)

    assert page.status_code == 200
    words = text(main(page.text))
    assert (
        f"Between {total['min']:,} and {total['max']:,} workers were reported sent to "
        "Russia in 2023" in words
    )
    assert total["best"] is None
    assert "no best estimate, because one report gives only “less than 100”" in words


def test_every_number_has_its_report_words_quote_and_links(
    client: TestClient, seeded: Ledger
) -> None:
    page = client.get("/", params=RUSSIA_2023).text

    assert "about 350" in page and "less than 100" in page
    assert "About 350 workers went to Moscow and Saint Petersburg" in page
    assert 'href="https://www.dailynk.com/english/north-korea-sends-hundreds-new-workers' in page
    fact_links = [part.split('"')[0] for part in page.split('href="/facts/')[1:]]
    assert fact_links
    for link in set(fact_links):
        assert client.get(f"/facts/{link}").status_code == 200


@pytest.mark.parametrize("name", ["Россия", "러시아", "俄罗斯", "RU", "russia"])
def test_a_country_is_asked_by_its_name_in_four_languages(
    client: TestClient, seeded: Ledger, name: str
) -> None:
    english = text(main(client.get("/", params=RUSSIA_2023).text))

    asked = text(main(client.get("/", params={"country": name, "year": "2023"}).text))

    assert (
        asked.split("Per city")[0].split("The answer")[1]
        == (english.split("Per city")[0].split("The answer")[1])
    )


def test_the_csv_is_the_table_on_screen_with_sources_and_urls(
    client: TestClient, seeded: Ledger
) -> None:
    columns, rows = table(client.get("/", params=RUSSIA_2023).text, "answer-table")

    download = client.get("/answer.csv", params=RUSSIA_2023)

    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    read = list(csv.reader(io.StringIO(download.text)))
    assert read[0] == columns
    assert read[1:] == rows
    by_place = {r["place"]: r for r in csv.DictReader(io.StringIO(download.text))}
    assert by_place["Vladivostok"]["sources"] == "Daily NK"
    assert by_place["Vladivostok"]["source_urls"].startswith("https://www.dailynk.com/")
    assert (
        by_place["Vladivostok"]["dispatched_min"],
        by_place["Vladivostok"]["dispatched_max"],
    ) == ("1", "99")


def test_a_place_with_nothing_sent_is_blank_not_zero(client: TestClient, seeded: Ledger) -> None:
    download = client.get("/answer.csv", params=RUSSIA_2023).text
    by_place = {r["place"]: r for r in csv.DictReader(io.StringIO(download))}

    # The seed's repatriations name Russia as a whole: nobody was reported sent there.
    assert by_place["Russia"]["dispatched_min"] == ""
    assert by_place["Russia"]["dispatched_max"] == ""
    assert by_place["Russia"]["repatriated_min"] != ""


def test_the_geojson_has_flat_properties(client: TestClient, seeded: Ledger) -> None:
    found = client.get("/answer.geojson", params=RUSSIA_2023)

    assert found.headers["content-type"].startswith("application/geo+json")
    features = {f["properties"]["place_id"]: f for f in found.json()["features"]}
    vladivostok = features["ru-vladivostok"]
    assert vladivostok["geometry"]["type"] == "Point"
    assert vladivostok["properties"]["dispatched_min"] == 1
    assert vladivostok["properties"]["dispatched_max"] == 99
    assert vladivostok["properties"]["dispatched_best"] is None
    assert all(not isinstance(v, dict | list) for v in vladivostok["properties"].values())


def test_nothing_reported_reads_as_an_absence_not_a_zero(
    client: TestClient, seeded: Ledger
) -> None:
    words = text(main(client.get("/", params={"country": "China", "year": "2023"}).text))

    assert "No report in the ledger says workers were sent to China in 2023" in words
    assert "not a report that nobody went" in words


def test_a_permalink_shows_the_same_page_after_new_events(
    client: TestClient, seeded: Ledger, writer: Headers
) -> None:
    first = client.get("/", params=RUSSIA_2023).text
    permalink = unescape(first.split('id="permalink" href="')[1].split('"')[0])
    assert "at_position=" in permalink
    pinned = client.get(permalink).text

    added = client.post(
        "/v1/events",
        json=dispatch_body(
            destinations=["Vladivostok"],
            count={"text": "2,000", "qualifier": "exact", "number": 2000},
        ),
        headers=writer,
    )
    assert added.status_code == 201, added.text

    assert main(client.get(permalink).text) == main(pinned)
    # The pinned page is the page first seen, saying it is pinned.
    assert _answer_part(pinned) == _answer_part(first)
    now = text(main(client.get("/", params=RUSSIA_2023).text))
    total = _country_total(client, period_from="2023-01-01", period_to="2023-12-31")
    assert f"Between {total['min']:,} and {total['max']:,} workers" in now
    assert total["min"] > 316


def test_known_at_before_any_event_shows_nothing_and_says_when(
    client: TestClient, seeded: Ledger
) -> None:
    page = client.get("/", params={**RUSSIA_2023, "known_at": "2001-01-01T00:00:00Z"}).text

    assert "log position 0" in page
    assert "No report in the ledger says workers were sent to Russia" in text(main(page))


def test_as_of_before_the_reports_period_leaves_them_out(
    client: TestClient, seeded: Ledger
) -> None:
    words = text(main(client.get("/", params={**RUSSIA_2023, "as_of": "2023-01-15"}).text))

    assert "No report in the ledger says workers were sent to Russia in 2023" in words


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/", {"country": "Rusia"}, "country"),
        ("/", {"year": "20x"}, "year"),
        ("/", {"year": "2023", "from": "2023-01-01"}, "year"),
        ("/", {"from": "2023-05-01", "to": "2023-01-01"}, "to"),
        ("/", {"from": "May 2023"}, "from"),
        ("/", {"affiliation": "navy"}, "affiliation"),
        ("/", {"as_of": "2023-13-01"}, "as_of"),
        ("/", {"known_at": "yesterday"}, "known_at"),
        ("/", {"at_position": "-1"}, "at_position"),
        ("/answer.csv", {"country": "Atlantis"}, "country"),
        ("/timeline", {"interval": "week"}, "interval"),
        ("/map", {"year": "1800"}, "year"),
        ("/stocks", {"country": "Narnia"}, "country"),
        ("/sources", {"known_at": "2023-06-01"}, "known_at"),
    ],
)
def test_a_field_that_cannot_be_read_is_a_422_page_naming_it(
    client: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    page = client.get(path, params=params)

    assert page.status_code == 422
    assert f"The field “{field}” could not be read" in page.text


def test_a_misspelt_country_is_answered_with_the_closest_names(
    client: TestClient, seeded: Ledger
) -> None:
    page = client.get("/", params={"country": "Rusia"}).text

    assert "Did you mean Russia" in page


def test_empty_form_fields_are_no_answer_not_a_mistake(client: TestClient, seeded: Ledger) -> None:
    page = client.get(
        "/",
        params={
            "country": "",
            "year": "",
            "from": "",
            "to": "",
            "affiliation": "",
            "as_of": "",
            "known_at": "",
            "at_position": "",
        },
    )

    assert page.status_code == 200
    assert "Between 316 and 484 workers were reported sent to Russia" in text(main(page.text))


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?country=Russia&year=2023&affiliation=military",
        "/timeline",
        "/timeline?country=Russia&interval=month",
        "/map",
        "/map?country=Russia&year=2023",
        "/sources",
        f"/sources/{SOURCE}",
        "/remittances",
        "/stocks",
        "/statements",
        "/entries",
        "/wages",
    ],
)
def test_every_page_answers_on_the_seed_with_its_permalink(
    client: TestClient, seeded: Ledger, path: str
) -> None:
    page = client.get(path)

    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="permalink"' in page.text
    assert "Labor Ledger, “" in page.text  # the cite line


def test_the_timeline_draws_bands_and_keeps_plans_apart(
    client: TestClient, seeded: Ledger, writer: Headers
) -> None:
    plan = dispatch_body(
        destinations=["Vladivostok"],
        count={"text": "1,000 more", "qualifier": "exact", "number": 1000},
        status="planned",
        period={"start": "2024-01-01", "end": "2024-12-31", "text": "next year"},
    )
    assert client.post("/v1/events", json=plan, headers=writer).status_code == 201

    page = client.get("/timeline", params={"country": "Russia"}).text

    assert "<svg" in page and 'class="band sent' in page and 'class="band planned' in page
    _columns, rows = table(page, "timeline-table")
    by_year = {r[0] if r else "": r for r in rows}
    assert "1,000" in " ".join(" ".join(r) for r in rows)
    assert by_year is not None


def test_the_map_draws_outlines_and_a_circle_per_place(client: TestClient, seeded: Ledger) -> None:
    page = client.get("/map", params=RUSSIA_2023).text

    assert page.count('<path d="M') > 100  # the shipped country outlines
    # Moscow, Saint Petersburg, Vladivostok; Russia as a whole only saw workers sent home
    assert page.count('class="symbol"') == 3
    assert "Vladivostok: 1–99 sent" in page


def test_the_maps_table_says_none_reported_where_nothing_was_sent_never_zero(
    client: TestClient, seeded: Ledger
) -> None:
    # Russia as a whole: workers were reported sent home, none reported sent
    _columns, rows = table(client.get("/map", params=RUSSIA_2023).text, "map-table")
    # (cells after the place's name: country, sent, planned, sent home, sources)
    russia = next(row for row in rows if row[3] == "≥ 2")
    assert russia[1:3] == ["none reported", "none reported"]
    assert sorted(row[1] for row in rows) == ["0–385", "0–385", "1–99", "none reported"]


def test_a_fact_page_tells_its_history(
    client: TestClient, seeded: Ledger, corrector: Headers, writer: Headers
) -> None:
    vladivostok = next(
        e
        for e in client.get("/v1/events", params={"limit": 50}).json()["events"]
        if e["type"] == "workers.dispatched" and "Vladivostok" in str(e["data"]["destinations"])
    )
    other = "yonhap-2023-06-workers"
    assert client.post("/v1/events", json={**_source(other)}, headers=writer).status_code == 201
    corroboration = meta_body("fact.corroborated", vladivostok["id"], source_id=other)
    corroboration["provenance"]["locator"] = "Dozens of workers arrived in Vladivostok by train."
    assert client.post("/v1/events", json=corroboration, headers=writer).status_code == 201
    replacement = {
        **vladivostok["data"],
        "count": {"text": "about 90", "qualifier": "approximately", "number": 90},
    }
    correction = meta_body(
        "fact.corrected",
        vladivostok["id"],
        reason="the Korean original says about 90",
        replacement=replacement,
    )
    assert client.post("/v1/events", json=correction, headers=corrector).status_code == 201

    page = client.get(f"/facts/{vladivostok['id']}")

    assert page.status_code == 200
    words = text(main(page.text))
    assert "Status: corrected" in words
    assert "corrected — the Korean original says about 90" in words
    assert "about 90 sent to Vladivostok" in words
    assert "corroborated by Yonhap" in words
    assert "Dozens of workers arrived in Vladivostok by train." in words
    assert "less than 100" in words  # as first recorded
    assert "Counted between 81 and 99, best figure 90" in words
    assert "Workers sent: about 90 sent to Vladivostok" in words  # the title: as it stands
    answer = text(main(client.get("/", params=RUSSIA_2023).text))
    assert "about 90" in answer and "(as corrected)" in answer


def test_a_retracted_fact_says_so_and_leaves_the_answer(
    client: TestClient, seeded: Ledger, corrector: Headers
) -> None:
    vladivostok = next(
        e
        for e in client.get("/v1/events", params={"limit": 50}).json()["events"]
        if e["type"] == "workers.dispatched" and "Vladivostok" in str(e["data"]["destinations"])
    )
    retraction = meta_body("fact.retracted", vladivostok["id"], reason="the partner withdrew it")
    assert client.post("/v1/events", json=retraction, headers=corrector).status_code == 201

    words = text(main(client.get(f"/facts/{vladivostok['id']}").text))

    assert "Status: retracted" in words
    assert "retracted — the partner withdrew it" in words
    answer = text(main(client.get("/", params=RUSSIA_2023).text))
    assert "Vladivostok Владивосток" not in answer
    assert "“less than 100”" not in answer


@pytest.mark.parametrize(
    "path",
    ["/sources/no-such-source", "/facts/01890000-0000-7000-8000-000000000000"],
)
def test_what_was_never_recorded_is_a_404_page(client: TestClient, path: str) -> None:
    page = client.get(path)

    assert page.status_code == 404
    assert "was recorded by position" in page.text


def test_a_fact_recorded_after_the_pinned_position_is_not_shown(
    client: TestClient, seeded: Ledger, writer: Headers
) -> None:
    added = client.post(
        "/v1/events", json=dispatch_body(destinations=["Vladivostok"]), headers=writer
    )
    event_id = added.json()["events"][0]["id"] if "events" in added.json() else added.json()["id"]

    assert client.get(f"/facts/{event_id}").status_code == 200
    assert client.get(f"/facts/{event_id}", params={"at_position": "9"}).status_code == 404


def test_the_desk_and_the_api_reference_link_to_each_other(
    client: TestClient, seeded: Ledger
) -> None:
    assert 'href="/docs"' in client.get("/").text


def _source(source_id: str) -> dict[str, Any]:
    return {
        "type": "source.recorded",
        "provenance": {"source_id": source_id, "locator": "headline"},
        "data": {
            "source_id": source_id,
            "outlet": "Yonhap",
            "title": "Workers arrive in Vladivostok",
            "url": "https://en.yna.co.kr/view/example",
            "language": "en",
        },
    }


def _answer_part(page: str) -> str:
    """The words of the answer and what backs it: the page below its form."""
    return text(main(page).split('id="answer-heading"')[1])


def test_entries_and_wages_have_pages_of_their_own(
    client: TestClient, seeded: Ledger, writer: Headers
) -> None:
    examples = event_examples()
    for body in (
        illustration_source().body,
        examples[EventType.entries_recorded].body,
        examples[EventType.wage_reported].body,
    ):
        assert client.post("/v1/events", json=body, headers=writer).status_code == 201

    entries = text(main(client.get("/entries", params={"country": "Russia"}).text))
    wages = text(main(client.get("/wages").text))

    assert "Arrivals are not workers" in entries
    assert "13,221" in entries and "study: 5,000" in entries
    assert "promised USD 500 per month" in wages
    assert "USD 500.00" in wages or "USD 500" in wages
    answer = text(main(client.get("/", params=RUSSIA_2023).text))
    counted = answer.split("Also reported, never counted as workers sent")[0]
    assert "13,221" not in counted  # arrivals are never counted as workers sent
    beside = answer.split("Also reported, never counted as workers sent")[1]
    assert "FSB border service: 13,221 arrivals from North Korea into Russia" in beside
    assert "promised: USD 500 per month" in beside
    source = text(
        main(
            client.get(
                "/sources/" + examples[EventType.wage_reported].body["provenance"]["source_id"]
            ).text
        )
    )
    assert "13,221 arrivals from KP into RU counted by FSB border service" in source
    assert "USD 500 per month, promised" in source


def test_officials_claims_are_listed_beside_the_answer_never_in_it(
    client: TestClient, seeded: Ledger, writer: Headers
) -> None:
    for body in (illustration_source().body, statement_with_claims().body):
        assert client.post("/v1/events", json=body, headers=writer).status_code == 201
    total = _country_total(client, period_from="2023-01-01", period_to="2023-12-31")

    answer = text(main(client.get("/", params=RUSSIA_2023).text))

    counted, beside = answer.split("Also reported, never counted as workers sent")
    assert f"Between {total['min']:,} and {total['max']:,} workers" in counted
    assert "about 5,000" not in counted
    assert "city officials (2023-05), of Primorsky Krai: present about 5,000" in beside
    assert "expected a few thousand" in beside


def test_a_corroborating_source_is_named_under_its_report_and_in_the_csv(
    client: TestClient, seeded: Ledger, writer: Headers
) -> None:
    """The sentence counts the sources behind the numbers, corroborations included: the
    page and its download name each of them."""
    vladivostok = next(
        e
        for e in client.get("/v1/events", params={"limit": 50}).json()["events"]
        if e["type"] == "workers.dispatched" and "Vladivostok" in str(e["data"]["destinations"])
    )
    other = "yonhap-2023-06-workers"
    assert client.post("/v1/events", json={**_source(other)}, headers=writer).status_code == 201
    before = client.get("/v1/deployments").json()["position"]
    corroboration = meta_body("fact.corroborated", vladivostok["id"], source_id=other)
    assert client.post("/v1/events", json=corroboration, headers=writer).status_code == 201

    words = text(main(client.get("/", params=RUSSIA_2023).text))
    rows = list(csv.DictReader(io.StringIO(client.get("/answer.csv", params=RUSSIA_2023).text)))

    assert "from two sources" in words
    assert "Corroborated by Yonhap" in words
    [row] = [r for r in rows if r["place_id"] == "ru-vladivostok"]
    assert "Yonhap" in row["sources"].split("; ")
    pinned_before = {**RUSSIA_2023, "at_position": str(before)}  # a permalink of before
    assert "Corroborated by" not in text(main(client.get("/", params=pinned_before).text))


def test_a_long_source_is_read_a_page_at_a_time_each_pinned(
    client: TestClient, seeded: Ledger, writer: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source of a large log may hold tens of thousands of facts: its page lists a
    page of them and links on, pinned, so a fact recorded meanwhile moves nothing."""
    monkeypatch.setattr(desk_pages, "FACTS_PER_PAGE", 2)
    source = "dailynk-2023-05-nk-workers-russia"
    for city in ("Kazan", "Omsk", "Tomsk"):
        body = dispatch_body(source_id=source, destinations=[city])
        body["provenance"]["locator"] = f"Workers arrived in {city}."
        assert client.post("/v1/events", json=body, headers=writer).status_code == 201

    quotes: list[str] = []
    address: str | None = f"/sources/{source}"
    while address is not None:
        page = client.get(address)
        assert page.status_code == 200, page.text
        quotes += [q for q in ("Kazan", "Omsk", "Tomsk") if f"arrived in {q}" in page.text]
        later = links(page.text, rel="next")
        if later and len(quotes) == 1:  # a fact recorded while reading on
            body = dispatch_body(source_id=source, destinations=["Perm"])
            body["provenance"]["locator"] = "Workers arrived in Perm."
            assert client.post("/v1/events", json=body, headers=writer).status_code == 201
        address = later[0] if later else None

    assert quotes == ["Kazan", "Omsk", "Tomsk"]  # each once, in order, and Perm not yet
    bad = client.get(f"/sources/{source}", params={"after": "-1"})
    assert bad.status_code == 422 and "after" in text(bad.text)


def test_reports_read_once_give_the_page_a_fresh_read_gives(
    client: TestClient, seeded: Ledger, corrector: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each event's report is made once per process (`ReportsRead`): after a correction
    the answer quotes the corrected report, as a process reading everything anew does."""
    client.get("/", params=RUSSIA_2023)  # the reports now kept
    vladivostok = next(
        e
        for e in client.get("/v1/events", params={"limit": 50}).json()["events"]
        if e["type"] == "workers.dispatched" and "Vladivostok" in str(e["data"]["destinations"])
    )
    replacement = {
        **vladivostok["data"],
        "count": {"text": "about 90", "qualifier": "approximately", "number": 90},
    }
    correction = meta_body(
        "fact.corrected", vladivostok["id"], reason="misread", replacement=replacement
    )
    assert client.post("/v1/events", json=correction, headers=corrector).status_code == 201

    kept = main(client.get("/", params=RUSSIA_2023).text)
    monkeypatch.setattr(evidence, "READ", evidence.ReportsRead())
    seeded.views = ViewCache()  # so that the page is made again, reading every report
    fresh = main(client.get("/", params=RUSSIA_2023).text)

    assert "about 90" in text(kept) and "(as corrected)" in text(kept)
    assert kept == fresh


def test_rows_kept_from_an_earlier_view_give_the_pages_a_fresh_fold_gives(
    client: TestClient, seeded: Ledger, writer: Headers
) -> None:
    """After an append the desk's rows are those of the unchanged groups, kept
    (`RowFragments.row`), and the changed ones made anew: the same page as a process
    folding everything afresh."""
    for path in ("/map", "/?country=Russia"):
        client.get(path)
    body = dispatch_body(destinations=["Moscow", "Kazan"], affiliation="civilian")
    assert client.post("/v1/events", json=body, headers=writer).status_code == 201

    kept = {path: main(client.get(path).text) for path in ("/map", "/?country=Russia")}
    seeded.views, seeded.folds = ViewCache(), IncrementalFolds()
    seeded.row_fragments = RowFragments()
    fresh = {path: main(client.get(path).text) for path in ("/map", "/?country=Russia")}

    assert "Kazan" in text(kept["/map"])
    assert kept == fresh


def test_every_report_behind_a_city_is_a_click_from_the_answer_a_page_at_a_time(
    client: TestClient, seeded: Ledger, writer: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer lists the first reports; each city's name in the table leads to all of
    its own, stocks and flows in the order recorded, a page at a time, pinned where the
    answer was: a report recorded while reading on moves nothing."""
    monkeypatch.setattr(desk_pages, "REPORTS_PER_PAGE", 2)
    said = ["Kazan one", "Kazan stock", "Kazan two", "Kazan three"]
    for words in said:
        if words == "Kazan stock":
            body: dict[str, Any] = {
                "type": "workforce.estimated",
                "provenance": {"source_id": SOURCE, "locator": f"{words}."},
                "data": {
                    "place": {"name": "Kazan"},
                    "as_of": "2023-06-01",
                    "count": {"text": "about 70", "qualifier": "approximately", "number": 70},
                    "affiliation": "civilian",
                },
            }
        else:
            body = dispatch_body(destinations=["Kazan"], affiliation="civilian")
            body["provenance"]["locator"] = f"{words}."
        assert client.post("/v1/events", json=body, headers=writer).status_code == 201

    answer = client.get("/", params=RUSSIA_2023).text
    [first] = {a for a in links(answer) if a.startswith("/reports?") and "ru-kazan" in a}
    address: str | None = first
    quotes: list[str] = []
    while address is not None:
        page = client.get(address)
        assert page.status_code == 200, page.text
        words = text(main(page.text))
        assert "Kazan" in words and "civilian" in words
        quotes += [q for q in [*said, "Kazan four"] if f"{q}." in words]
        later = links(page.text, rel="next")
        if later and len(quotes) == 2:  # a report recorded while reading on
            body = dispatch_body(destinations=["Kazan"], affiliation="civilian")
            body["provenance"]["locator"] = "Kazan four."
            assert client.post("/v1/events", json=body, headers=writer).status_code == 201
        address = later[0] if later else None

    assert quotes == said  # each once, in the order recorded, and the fourth not yet


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"country": "Russia"}, "place"),
        ({"place": "atlantis"}, "place"),
        ({"place": "ru-kazan", "after": "-1"}, "after"),
        ({"place": "ru-kazan", "year": "23"}, "year"),
    ],
)
def test_a_reports_page_asked_wrongly_is_a_422_naming_the_field(
    client: TestClient, seeded: Ledger, params: dict[str, str], field: str
) -> None:
    page = client.get("/reports", params=params)
    assert page.status_code == 422
    assert f"The field “{field}” could not be read" in text(main(page.text))
