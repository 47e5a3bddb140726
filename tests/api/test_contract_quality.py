"""The contract reads well in Swagger UI and generates good clients: clean operation ids,
every parameter described, no 64-bit maxima, `security` on every operation, response
headers declared, "Try it out" filled with questions the seed answers; the problem
types' pages answer; the docs and the desk link to each other."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.openapi_refine import LARGEST_ADVERTISED, TRY_IT_OUT
from service.api.problems import known_problems
from service.ingest.importing import SEED_PRINCIPAL, import_events, read_seed
from service.ledger import Ledger

METHODS = {"get", "put", "post", "patch", "delete"}
VERBS = {"list", "get", "record", "stream", "search", "create", "revoke", "disable", "enable"}
VERBS |= {"verify", "check", "delete", "update", "read", "follow"}


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(found) >= 20  # the checks below loop over these
    return found


def operation(document: dict[str, Any], operation_id: str) -> dict[str, Any]:
    (found,) = [o for _, _, o in operations(document) if o["operationId"] == operation_id]
    return found


def test_operation_ids_are_unique_snake_case_verbs(document: dict[str, Any]) -> None:
    ids = [o["operationId"] for _, _, o in operations(document)]

    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", operation_id), operation_id
        assert operation_id.split("_")[0] in VERBS, operation_id
    assert {"list_deployments", "record_events", "list_events", "stream_events"} <= set(ids)


def test_every_parameter_is_described(document: dict[str, Any]) -> None:
    for method, path, found in operations(document):
        for parameter in found.get("parameters", []):
            assert parameter.get("description"), (method, path, parameter["name"])


def test_optional_parameters_read_as_their_type(document: dict[str, Any]) -> None:
    for method, path, found in operations(document):
        for parameter in found.get("parameters", []):
            schema = parameter["schema"]
            assert "anyOf" not in schema, (method, path, parameter["name"], schema)
            assert schema.get("type") != "null", (method, path, parameter["name"])
    country = next(
        p for p in operation(document, "list_deployments")["parameters"] if p["name"] == "country"
    )
    assert country["schema"]["type"] == "string"


def test_no_maximum_is_a_machine_limit(document: dict[str, Any]) -> None:
    maxima: list[int] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("maximum"), int):
                maxima.append(node["maximum"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert maxima  # real limits (page sizes) are still shown
    assert max(maxima) < LARGEST_ADVERTISED


def test_a_position_beyond_64_bits_is_still_refused(client: TestClient) -> None:
    response = client.get("/v1/deployments", params={"at_position": 2**63})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.at_position"


def test_every_operation_states_its_security_public_ones_empty(document: dict[str, Any]) -> None:
    for method, path, found in operations(document):
        assert "security" in found, (method, path)
        public = method == "get" and not path.startswith("/v1/admin")
        assert (found["security"] == []) == public, (method, path)


def test_servers_license_and_contact_are_given(document: dict[str, Any]) -> None:
    assert document["servers"] == [{"url": "/"}]
    assert document["info"]["license"]["identifier"] == "MIT"
    assert document["info"]["contact"]["name"]


@pytest.mark.settings(public_url="https://ledger.example.org/")
def test_servers_name_the_public_url_when_set(document: dict[str, Any]) -> None:
    assert document["servers"] == [{"url": "https://ledger.example.org"}]
    stream = operation(document, "stream_events")
    assert "curl -N 'https://ledger.example.org/v1/events/stream" in stream["description"]


def test_response_headers_are_declared(document: dict[str, Any]) -> None:
    def headers(operation_id: str, status: str) -> set[str]:
        return set(operation(document, operation_id)["responses"][status].get("headers", {}))

    assert "ETag" in headers("list_deployments", "200")
    assert {"Location", "Idempotent-Replayed"} <= headers("record_events", "201")
    assert "Link" in headers("list_events", "200")
    assert set(document["components"]["headers"]) >= {
        "ETag",
        "Location",
        "Link",
        "Idempotent-Replayed",
        "Retry-After",
    }


def test_a_view_is_typed_as_the_view_its_304_said_in_words(document: dict[str, Any]) -> None:
    # A declared bodiless 304 makes client generators type each view `Any | View | …`.
    views = [
        o
        for _, _, o in operations(document)
        if "ETag" in o["responses"].get("200", {}).get("headers", {})
    ]

    assert len(views) >= 5
    for found in views:
        assert "304" not in found["responses"], found["operationId"]
        assert "304 Not Modified" in found["description"], found["operationId"]
        assert "If-None-Match" in found["description"], found["operationId"]


def test_a_view_answers_304_as_its_description_says(seeded: TestClient) -> None:
    first = seeded.get("/v1/deployments")
    again = seeded.get("/v1/deployments", headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304
    assert again.content == b""


def test_the_stream_says_try_it_out_cannot_show_it_and_gives_the_curl(
    document: dict[str, Any],
) -> None:
    description = operation(document, "stream_events")["description"]

    assert "cannot show this stream" in description
    assert "curl -N 'http://127.0.0.1:8000/v1/events/stream?after=0'" in description


def test_the_intro_points_to_the_desk_and_to_authorize_and_is_short(
    document: dict[str, Any],
) -> None:
    intro = document["info"]["description"]

    assert "](/)" in intro  # a link to the desk
    assert "Authorize" in intro and "top right of" in intro
    assert "| qualifier |" not in intro  # the reference table is below the first screen
    assert "| qualifier |" in operation(document, "record_events")["description"]


NOTHING_IN_THE_SEED = {"/v1/estimates"}
"""The founding report gives no stock: "how many are in Russia?" is answered "none
reported" until one is recorded."""


@pytest.fixture
def seeded(client: TestClient, ledger: Ledger) -> TestClient:
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
    return client


def test_every_try_it_out_default_answers_a_question_on_the_seed(
    seeded: TestClient, document: dict[str, Any]
) -> None:
    for method, path, found in operations(document):
        if (method, path) not in TRY_IT_OUT:
            continue
        params = {
            p["name"]: p["example"]
            for p in found["parameters"]
            if p["in"] == "query" and "example" in p
        }
        url = path
        for p in found["parameters"]:
            if p["in"] == "path":
                url = url.replace("{" + p["name"] + "}", p["example"])
        response = seeded.get(url, params=params)

        assert response.status_code == 200, (path, response.text)
        if path not in NOTHING_IN_THE_SEED:
            assert _has_an_answer(response.json()), (path, params, response.json())


def _has_an_answer(body: object) -> bool:
    """A non-empty list somewhere at the top of the answer, or an object found by id."""
    if isinstance(body, list):
        return bool(body)
    assert isinstance(body, dict)
    lists = [v for v in body.values() if isinstance(v, list)]
    return any(lists) if lists else bool(body)


@pytest.mark.parametrize("slug", sorted(known_problems()))
def test_every_problem_type_has_a_page(client: TestClient, slug: str) -> None:
    page = client.get(f"/problems/{slug}")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>" in page.text and 'href="/docs"' in page.text


def test_a_problem_page_in_json_for_programs(client: TestClient) -> None:
    page = client.get("/problems/unknown-country", headers={"Accept": "application/json"})

    assert page.status_code == 200
    assert page.json()["type"] == "/problems/unknown-country"
    assert page.json()["status"] == 422
    assert "ISO code" in page.json()["detail"]


def test_the_type_of_a_problem_answered_is_a_page(client: TestClient) -> None:
    problem = client.get("/v1/deployments", params={"country": "Narnia"}).json()

    assert client.get(problem["type"]).status_code == 200


def test_an_unknown_problem_type_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/problems/no-such-problem")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_rows_events_url_is_absolute_and_can_be_followed(seeded: TestClient) -> None:
    rows = seeded.get("/v1/deployments").json()["rows"]

    assert rows
    for row in rows:
        assert row["events_url"].startswith("http://testserver/v1/deployments/events?")
    followed = seeded.get(rows[0]["events_url"])
    assert followed.status_code == 200
    assert followed.json()["events"]


@pytest.mark.settings(public_url="https://ledger.example.org/")
def test_a_rows_events_url_is_on_the_public_url_when_set(seeded: TestClient) -> None:
    rows = seeded.get("/v1/deployments", headers={"Host": "internal:8000"}).json()["rows"]

    assert rows
    assert all(
        row["events_url"].startswith("https://ledger.example.org/v1/deployments/events?")
        for row in rows
    )


def test_each_address_asked_gets_links_on_itself(seeded: TestClient) -> None:
    first = seeded.get("/v1/deployments", headers={"Host": "one.example"}).json()
    second = seeded.get("/v1/deployments", headers={"Host": "two.example"}).json()

    assert first["rows"][0]["events_url"].startswith("http://one.example/")
    assert second["rows"][0]["events_url"].startswith("http://two.example/")


def test_every_error_is_documented_as_a_problem(document: dict[str, Any]) -> None:
    for method, path, found in operations(document):
        for status, response in found["responses"].items():
            if status[0] in "45":
                (content,) = response["content"].values()
                assert content["schema"] == {"$ref": "#/components/schemas/Problem"}, (
                    method,
                    path,
                    status,
                )
    assert "HTTPValidationError" not in document["components"]["schemas"]
