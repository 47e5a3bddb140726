"""The contract generates a client that works: `openapi-python-client` builds a Python
package from openapi/openapi.json, and that package records, pages and reads against a
real uvicorn, with every answer typed as the contract says (a view, a page, a problem;
never `Any`), and each event in a page its type's envelope, its `data` that type's
payload (`event.data.count.best`, not `event.data["count"]["best"]`).

The event stream is the one operation such a client cannot follow: its generated
function reads a whole answer, and the stream never ends. The test shows that the
function gives up at the client's read timeout rather than hanging, and that the
generated client's own httpx client reads the stream as a stream (what its users should
do, as any SSE client does)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import dispatch_body, source_body
from tests.follow.servers import ThreadedServer

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "openapi" / "openapi.json"
PACKAGE = "labor_ledger_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ModuleType]]:
    """The client generated from the contract, importable: `generated("api.events.list_events")`."""
    folder = tmp_path_factory.mktemp("generated")
    # Its own post-hooks run ruff on the code (which needs it: one line reads `1and`
    # until formatted); ruff is the venv's, beside this Python.
    output = folder / PACKAGE
    path = f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    run = subprocess.run(
        [GENERATOR, "generate", "--meta", "none", "--path", CONTRACT, "--output-path", output],
        cwd=folder,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # The generator warns (and still succeeds) when it skips a part it cannot express.
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr
    sys.path.insert(0, str(folder))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture
def server(app: FastAPI) -> Iterator[ThreadedServer]:
    running = ThreadedServer(app).start()
    yield running
    running.stop()


@dataclass
class Generated:
    """The generated package's parts a test uses, and its two clients on the server."""

    module: Callable[[str], ModuleType]
    writing: Any  # AuthenticatedClient, with the writer's key
    reading: Any  # Client, with no key

    @property
    def models(self) -> ModuleType:
        return self.module("models")

    def operation(self, tag_and_id: str) -> ModuleType:
        return self.module(f"api.{tag_and_id}")

    def record(self, body: dict[str, Any], model: str) -> Any:
        typed = getattr(self.models, model).from_dict(body)
        return self.operation("events.record_events").sync(client=self.writing, body=typed)


@pytest.fixture
def api(
    generated: Callable[[str], ModuleType], server: ThreadedServer, writer: dict[str, str]
) -> Iterator[Generated]:
    clients = generated("client")
    token = writer["Authorization"].removeprefix("Bearer ")
    with (
        clients.AuthenticatedClient(base_url=server.url, token=token) as writing,
        clients.Client(base_url=server.url, timeout=httpx.Timeout(10.0, read=2.0)) as reading,
    ):
        yield Generated(generated, writing, reading)


def returns_mention_any(function: Callable[..., Any]) -> bool:
    return "Any" in str(typing.get_type_hints(function)["return"])


def test_the_generated_client_records_a_source_and_a_fact_with_a_key(api: Generated) -> None:
    source = api.record(source_body(), "SourceRecordedIn")
    fact = api.record(dispatch_body(), "WorkersDispatchedIn")

    assert not returns_mention_any(api.operation("events.record_events").sync)
    assert isinstance(source, api.models.AppendResult), source
    assert isinstance(fact, api.models.AppendResult), fact
    recorded = source.events + fact.events
    assert [e.type_ for e in recorded] == ["source.recorded", "workers.dispatched"]
    assert [e.position for e in recorded] == [1, 2]


def test_the_generated_client_reads_a_refusal_as_a_problem_naming_the_field(
    api: Generated,
) -> None:
    body = dispatch_body(count={"text": "minus five", "qualifier": "approximately", "number": -5})
    api.record(source_body(), "SourceRecordedIn")

    answer = api.record(body, "WorkersDispatchedIn")

    assert isinstance(answer, api.models.Problem), answer
    assert answer.status == 422
    assert any("count" in problem.field for problem in answer.errors), answer.errors


def test_the_generated_client_reads_a_wrong_key_as_a_401_problem(
    generated: Callable[[str], ModuleType], server: ThreadedServer
) -> None:
    models = generated("models")
    record_events = generated("api.events.record_events")
    body = models.SourceRecordedIn.from_dict(source_body())
    with generated("client").AuthenticatedClient(base_url=server.url, token="nope") as client:
        answer = record_events.sync(client=client, body=body)

    assert isinstance(answer, models.Problem), answer
    assert answer.status == 401


def test_the_generated_client_pages_the_events_by_following_next(api: Generated) -> None:
    api.record(source_body(), "SourceRecordedIn")
    for city in ("Moscow", "Kazan", "Tomsk"):
        api.record(dispatch_body(destinations=[city]), "WorkersDispatchedIn")
    list_events = api.operation("events.list_events").sync

    pages = [list_events(client=api.reading, limit=3)]
    while isinstance(pages[-1].next_, str):
        asked = {k: v[0] for k, v in parse_qs(urlsplit(pages[-1].next_).query).items()}
        after, limit = int(asked["after"]), int(asked["limit"])
        pages.append(list_events(client=api.reading, limit=limit, after=after))

    assert not returns_mention_any(list_events)
    assert all(isinstance(page, api.models.EventPage) for page in pages)
    assert [[e.position for e in page.events] for page in pages] == [[1, 2, 3], [4]]
    assert pages[-1].next_ is None


def test_the_generated_client_reads_each_event_with_its_types_payload(api: Generated) -> None:
    api.record(source_body(), "SourceRecordedIn")
    exact = {"text": "350", "qualifier": "exact", "number": 350}
    api.record(dispatch_body(destinations=["Moscow"], count=exact), "WorkersDispatchedIn")
    list_events = api.operation("events.list_events").sync

    page = list_events(client=api.reading)

    # Each event is its type's envelope, its data that type's payload: fields, not keys.
    source, dispatch = page.events
    assert isinstance(source, api.models.RecordedSourceRecorded), source
    assert isinstance(source.data, api.models.SourceRecorded)
    assert source.data.outlet == source_body()["data"]["outlet"]
    assert isinstance(dispatch, api.models.RecordedWorkersDispatched), dispatch
    assert dispatch.type_ == "workers.dispatched"
    assert isinstance(dispatch.data, api.models.WorkersDispatched)
    assert (dispatch.data.count.min_, dispatch.data.count.best) == (350, 350)
    assert [place.place_id for place in dispatch.data.destinations] == ["ru-moscow"]
    assert dispatch.data.status == api.models.FlowStatus.COMPLETED
    assert isinstance(dispatch.provenance, api.models.Provenance)
    assert dispatch.provenance.source_id == dispatch_body()["provenance"]["source_id"]


def test_the_generated_model_reads_a_version_1_payload_as_stored(api: Generated) -> None:
    # given a dispatch as a ledger recorded it before schema version 2: no status, no route
    api.record(source_body(), "SourceRecordedIn")
    api.record(dispatch_body(), "WorkersDispatchedIn")
    served = api.reading.get_httpx_client().get("/v1/events", params={"type": "workers.dispatched"})
    stored = served.json()["events"][0]
    data = {k: v for k, v in stored["data"].items() if k not in ("status", "via")}

    event = api.models.RecordedWorkersDispatched.from_dict(
        {**stored, "schema_version": 1, "data": data}
    )

    # then it is read typed, the fields version 1 lacks unset (`schema=current` fills them)
    assert event.schema_version == 1
    assert event.data.count.best == 350
    assert isinstance(event.data.status, api.module("types").Unset)


def test_the_generated_client_reads_the_deployments_view_typed(api: Generated) -> None:
    api.record(source_body(), "SourceRecordedIn")
    dispatch = dispatch_body(
        destinations=["Moscow"], count={"text": "350", "qualifier": "exact", "number": 350}
    )
    api.record(dispatch, "WorkersDispatchedIn")
    list_deployments = api.operation("deployments.list_deployments").sync

    view = list_deployments(client=api.reading, country="Russia")

    assert not returns_mention_any(list_deployments)
    assert isinstance(view, api.models.DeploymentsView), view
    (row,) = view.rows
    assert isinstance(row, api.models.DeploymentRow)
    assert isinstance(row.dispatched, api.models.Range)
    assert (row.dispatched.min_, row.dispatched.best, row.dispatched.max_) == (350, 350, 350)
    assert row.repatriated is None  # nothing reported, which is not "none went"


@pytest.mark.settings(stream_heartbeat_seconds=30)
def test_the_generated_stream_function_gives_up_at_the_read_timeout_instead_of_hanging(
    api: Generated,
) -> None:
    api.record(source_body(), "SourceRecordedIn")
    stream_events = api.operation("events.stream_events")

    # The generated function waits for the end of an endless answer: the client's read
    # timeout (2 s here, under the 30 s heartbeat) is what ends it.
    with pytest.raises(httpx.ReadTimeout):
        stream_events.sync_detailed(client=api.reading)

    # Read as a stream through the same generated client, it gives each event as it comes.
    with api.reading.get_httpx_client().stream("GET", "/v1/events/stream") as answer:
        first_event = next(line for line in answer.iter_lines() if line.startswith("event: "))
    assert answer.status_code == 200
    assert first_event == "event: source.recorded"
