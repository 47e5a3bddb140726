"""One URL, several forms (JSON, CSV, GeoJSON), told apart as a cache and a client need:
each form has its own ETag, every answer says `Vary: Accept, Accept-Encoding`, q-values
are honoured, and a form the view does not come in is a 406 problem, not JSON."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import dispatch_body, source_body

Headers = dict[str, str]


@pytest.fixture
def recorded(client: TestClient, writer: Headers) -> None:
    for body in (source_body(), dispatch_body()):
        assert client.post("/v1/events", json=body, headers=writer).status_code == 201


def form_of(response: Any) -> str:
    return str(response.headers["content-type"]).split(";")[0]


def vary_of(response: Any) -> set[str]:
    return {name.strip() for name in response.headers.get("vary", "").split(",")}


def test_each_form_has_its_own_etag(client: TestClient, recorded: None) -> None:
    # given the view read as JSON, CSV and GeoJSON
    url = "/v1/deployments?group_by=place"
    forms = {
        accept: client.get(url, headers={"Accept": accept})
        for accept in ("application/json", "text/csv", "application/geo+json")
    }

    # then each form carries an ETag of its own
    assert {form_of(r) for r in forms.values()} == set(forms)
    assert len({r.headers["etag"] for r in forms.values()}) == 3

    # and the JSON's ETag does not get a CSV reader a 304: it gets the CSV
    json_etag = forms["application/json"].headers["etag"]
    as_csv = client.get(url, headers={"Accept": "text/csv", "If-None-Match": json_etag})
    assert as_csv.status_code == 200
    assert form_of(as_csv) == "text/csv"
    # while the CSV's own ETag does
    csv_etag = forms["text/csv"].headers["etag"]
    again = client.get(url, headers={"Accept": "text/csv", "If-None-Match": csv_etag})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "url",
    ["/v1/deployments", "/v1/deployments/timeline", "/v1/estimates", "/v1/sources"],
)
def test_every_negotiated_answer_varies_on_accept_and_encoding(
    client: TestClient, recorded: None, url: str
) -> None:
    # when a view is read as JSON, as CSV (twice: computed, then repeated) and revalidated
    as_json = client.get(url)
    as_csv = [client.get(url, headers={"Accept": "text/csv"}) for _ in range(2)]
    revalidated = client.get(url, headers={"If-None-Match": as_json.headers["etag"]})

    # then every answer says what it varies on, the 304 too
    assert revalidated.status_code == 304
    for response in (as_json, *as_csv, revalidated):
        assert {"Accept", "Accept-Encoding"} <= vary_of(response), response.headers


@pytest.mark.parametrize(
    ("accept", "form"),
    [
        ("text/csv;q=0, application/json", "application/json"),
        ("text/csv;q=0.5, application/json;q=0.9", "application/json"),
        ("application/json;q=0.1, text/csv", "text/csv"),
        ("text/*", "text/csv"),
        ("*/*", "application/json"),
        ("text/csv, application/json", "application/json"),  # a tie: the server's choice
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json"),
    ],
)
def test_q_values_are_honoured(client: TestClient, recorded: None, accept: str, form: str) -> None:
    response = client.get("/v1/estimates", headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert form_of(response) == form


@pytest.mark.parametrize(
    ("url", "accept", "named"),
    [
        ("/v1/deployments?format=xlsx", None, "format=xlsx"),
        ("/v1/estimates?format=geojson", None, "format=geojson"),
        ("/v1/deployments", "application/xml", "application/xml"),
        ("/v1/estimates", "text/csv;q=0", "text/csv;q=0"),  # not CSV, and nothing else
        ("/v1/deployments?group_by=country&format=geojson", None, "group_by"),
        ("/v1/deployments?group_by=country", "application/geo+json", "application/geo+json"),
    ],
)
def test_a_form_the_view_does_not_come_in_is_a_406_problem(
    client: TestClient, recorded: None, url: str, accept: str | None, named: str
) -> None:
    # when a client asks for a form this view (or this question) does not come in
    response = client.get(url, headers={"Accept": accept} if accept else {})

    # then it is told so, with the forms it does come in, and never handed JSON instead
    assert response.status_code == 406, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/not-acceptable"
    assert named in problem["detail"]
    assert "json (application/json)" in problem["detail"]


def test_format_json_is_json_whatever_accept_says(client: TestClient, recorded: None) -> None:
    response = client.get("/v1/deployments?format=json", headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert form_of(response) == "application/json"


def test_format_is_in_the_contract_with_the_forms_of_each_view(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    def format_of(path: str) -> dict[str, Any]:
        (parameter,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == "format"]
        return dict(parameter)

    assert format_of("/v1/deployments")["schema"]["enum"] == ["json", "csv", "geojson"]
    for path in ("/v1/deployments/timeline", "/v1/estimates", "/v1/sources"):
        assert format_of(path)["schema"]["enum"] == ["json", "csv"]
        assert format_of(path)["in"] == "query"
        assert "406" in paths[path]["get"]["responses"]
