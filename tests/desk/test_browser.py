"""The desk in a real browser, clicked through as a journalist would: headless Chromium
(Debian's package) on a real uvicorn serving the seed.

One server and one browser for the module; the journalist's own pages run with
JavaScript off (the desk needs none), the accessibility check (axe-core, vendored, the
only script) in a context of its own. SQLite pass only: the browser sees HTML that
tests/desk/test_pages.py already checks on both backends, and a second Chromium run
would double the slowest tests for no new behaviour.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from service.access.keys import Scope
from service.ingest.importing import SEED_PRINCIPAL, import_events, read_seed
from service.ledger import build_ledger
from service.settings import Settings
from tests.conftest import DatabaseFactory
from tests.desk.browser import (
    SCREENSHOTS,
    axe_violations,
    describe_violations,
    need_chromium,
    playwright_browser,
)
from tests.factories import dispatch_body
from tests.follow.servers import TEST_SECRET, LiveServer

pytestmark = pytest.mark.sqlite_only

PAGES = {
    "answer": "/?country=Russia&year=2023",
    "timeline": "/timeline?country=Russia",
    "map": "/map?country=Russia&year=2023",
    "sources": "/sources",
    "source": "/sources/dailynk-2023-05-nk-workers-russia",
    "reports": "/reports?country=Russia&year=2023&place=ru-vladivostok&affiliation=military",
    "remittances": "/remittances",
    "stocks": "/stocks",
    "statements": "/statements",
    "entries": "/entries",
    "wages": "/wages",
    "problem": "/?country=Rusia",
}


@dataclass
class Desk:
    url: str
    writer: dict[str, str]

    def view(self, path: str, **params: str) -> Any:
        return httpx.get(self.url + path, params=params, timeout=10).json()


@pytest.fixture(scope="module")
def desk(databases: DatabaseFactory) -> Iterator[Desk]:
    need_chromium()
    url = databases.new()
    settings = Settings(
        database_url=url,
        migrate_on_start=False,
        load_seed=False,
        bootstrap_admin=False,
        secret_key=TEST_SECRET,
        warm_views_on_start=False,
    )
    ledger = build_ledger(settings)
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    _, token = ledger.keys.create("desk-browser", {Scope.events_write})
    ledger.engine.dispose()
    server = LiveServer(url).start()
    try:
        yield Desk(server.url, {"Authorization": f"Bearer {token}"})
    finally:
        server.stop()
        databases.discard(url)


@pytest.fixture(scope="module")
def browser(desk: Desk) -> Iterator[Any]:
    yield from playwright_browser()


@dataclass
class Tab:
    page: Any
    requests: list[str]


def _tab(browser: Any, javascript: bool) -> Iterator[Tab]:
    context = browser.new_context(java_script_enabled=javascript, accept_downloads=True)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    try:
        yield Tab(context.new_page(), requests)
    finally:
        context.close()


@pytest.fixture
def reader(browser: Any) -> Iterator[Tab]:
    """A tab with JavaScript off: what works here works for every reader."""
    yield from _tab(browser, javascript=False)


@pytest.fixture
def checker(browser: Any) -> Iterator[Tab]:
    """A tab with JavaScript on, for axe-core alone."""
    yield from _tab(browser, javascript=True)


def _russia_2023(desk: Desk) -> dict[str, Any]:
    (row,) = desk.view(
        "/v1/deployments",
        group_by="country",
        country="RU",
        period_from="2023-01-01",
        period_to="2023-12-31",
    )["rows"]
    return row["dispatched"]  # type: ignore[no-any-return]


def test_a_journalist_asks_for_russia_in_2023_and_reads_the_answer(desk: Desk, reader: Tab) -> None:
    page = reader.page
    page.goto(desk.url + "/")
    page.get_by_label("Country").fill("Russia")
    page.get_by_label("Year").fill("2023")
    page.get_by_role("button", name="Answer").click()
    page.wait_for_load_state()

    total = _russia_2023(desk)
    answer = page.locator(".answer-sentence").first.inner_text()
    assert answer.startswith(
        f"Between {total['min']:,} and {total['max']:,} workers were reported sent to Russia "
        "in 2023"
    )
    assert "no best estimate, because one report gives only “less than 100”" in answer
    vladivostok = page.get_by_role("region", name=re.compile("^Vladivostok"))
    assert "less than 100" in vladivostok.inner_text()
    assert (
        "while less than 100 went to Vladivostok" in vladivostok.locator("blockquote").inner_text()
    )
    original = vladivostok.get_by_role("link", name="the original")
    assert original.get_attribute("href", timeout=1000).startswith("https://www.dailynk.com/")
    page.screenshot(path=SCREENSHOTS.path("answer"), full_page=True)
    assert all(url.startswith(desk.url) for url in reader.requests), reader.requests


def test_a_keyboard_alone_asks_the_question(desk: Desk, reader: Tab) -> None:
    page = reader.page
    page.goto(desk.url + "/")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "country":
            break
    else:  # pragma: no cover - the assertion says what went wrong
        pytest.fail("the country field cannot be reached with Tab")
    page.keyboard.type("Россия")
    page.keyboard.press("Tab")
    page.keyboard.type("2023")
    page.keyboard.press("Enter")
    page.wait_for_load_state()

    total = _russia_2023(desk)
    assert (
        f"Between {total['min']:,} and {total['max']:,} workers"
        in page.locator(".answer-sentence").first.inner_text()
    )


def test_the_csv_download_equals_the_table(desk: Desk, reader: Tab) -> None:
    page = reader.page
    page.goto(desk.url + PAGES["answer"])
    columns = page.locator("#answer-table thead th").evaluate_all(
        "cells => cells.map(c => c.dataset.column)"
    )
    rows = [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in page.locator("#answer-table tbody tr").all()
    ]

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV (with sources)").click()
    path = download.value.path()

    with open(path, newline="", encoding="utf-8") as file:
        table = list(csv.reader(file))
    assert table[0] == columns
    assert table[1:] == rows
    assert any("Daily NK" in row[columns.index("sources")] for row in rows)
    assert all(url.startswith(desk.url) for url in reader.requests)


def test_a_fact_and_its_source_are_one_click_away(desk: Desk, reader: Tab) -> None:
    page = reader.page
    page.goto(desk.url + PAGES["answer"])
    vladivostok = page.get_by_role("region", name=re.compile("^Vladivostok"))

    vladivostok.get_by_role("link", name="the fact and its history").click()
    page.wait_for_load_state()
    assert "Status: active" in page.locator("main").inner_text()
    assert "less than 100" in page.locator("main").inner_text()
    page.screenshot(path=SCREENSHOTS.path("fact"), full_page=True)

    page.get_by_role("link", name="source page").first.click()
    page.wait_for_load_state()
    assert "Every fact taken from it" in page.locator("main").inner_text()
    assert all(url.startswith(desk.url) for url in reader.requests)


def test_a_citys_reports_are_one_click_from_its_name_in_the_table(desk: Desk, reader: Tab) -> None:
    page = reader.page
    page.goto(desk.url + PAGES["answer"])

    page.locator("#answer-table").get_by_role("link", name="Vladivostok").click()
    page.wait_for_load_state()
    words = page.locator("main").inner_text()
    assert page.locator("h1").inner_text() == "Reports of military workers in Vladivostok in 2023"
    assert "less than 100" in words and "Daily NK" in words
    assert all(url.startswith(desk.url) for url in reader.requests)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_page_stays_in_the_service_and_passes_axe(
    desk: Desk, checker: Tab, name: str
) -> None:
    page = checker.page
    page.goto(desk.url + PAGES[name])
    page.screenshot(path=SCREENSHOTS.path(name), full_page=True)

    violations = axe_violations(page)

    assert not violations, describe_violations(violations)
    assert all(url.startswith(desk.url) for url in checker.requests), checker.requests


def test_a_permalink_shows_the_same_page_after_a_new_event(desk: Desk, reader: Tab) -> None:
    page = reader.page
    page.goto(desk.url + PAGES["answer"])
    permalink = page.locator("#permalink").get_attribute("href")
    assert permalink is not None and "at_position=" in permalink
    page.goto(permalink)
    pinned = page.locator("main").inner_text()
    before = _russia_2023(desk)

    more = dispatch_body(
        destinations=["Vladivostok"],
        count={"text": "1,500", "qualifier": "exact", "number": 1500},
    )
    recorded = httpx.post(desk.url + "/v1/events", json=more, headers=desk.writer, timeout=10)
    assert recorded.status_code == 201, recorded.text

    page.goto(permalink)
    assert page.locator("main").inner_text() == pinned
    page.goto(desk.url + PAGES["answer"])
    after = _russia_2023(desk)
    assert after["min"] == before["min"] + 1500
    assert (
        f"Between {after['min']:,} and {after['max']:,} workers"
        in page.locator(".answer-sentence").first.inner_text()
    )
