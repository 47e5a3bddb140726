"""Tracing, off by default: with `LEDGER_OTEL_ENABLED`, FastAPI's own telemetry makes a
span a request, named by its route template, with the status and the request id, and no
key anywhere in it; with an OTLP endpoint configured the spans and HTTP metrics are sent
there; the log lines of a traced request carry its trace's ids. And plain uvicorn on the
app factory logs JSON lines, as `labor-ledger serve` does."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from service.app import create_app
from service.ledger import Ledger
from service.settings import Settings
from tests.api.log_lines import logged_lines
from tests.api.serve_process import UVICORN_FACTORY, serving
from tests.factories import source_body

Headers = dict[str, str]


@dataclass
class Traced:
    client: TestClient
    exporter: InMemorySpanExporter

    def server_spans(self) -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if s.kind is SpanKind.SERVER]

    def span_of(self, request_id: str) -> ReadableSpan:
        [span] = [
            s for s in self.server_spans() if (s.attributes or {}).get("request_id") == request_id
        ]
        return span


@pytest.fixture
def access_lines() -> Iterator[list[dict[str, Any]]]:
    """The access lines written during the test, through the service's formatter."""
    with logged_lines("service.access", logging.INFO) as lines:
        yield lines


@pytest.fixture
def traced(settings: Settings, ledger: Ledger) -> Iterator[Traced]:
    """The app with `LEDGER_OTEL_ENABLED=true`, its spans also kept in memory."""
    app = create_app(settings.model_copy(update={"otel_enabled": True}), ledger)
    exporter = InMemorySpanExporter()
    app.state.telemetry.traces.add_span_processor(SimpleSpanProcessor(exporter))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Traced(client, exporter)


def test_a_read_is_a_span_named_by_its_route_template(traced: Traced, writer: Headers) -> None:
    # given an event, and a read of it by its id
    posted = traced.client.post("/v1/events", json=source_body(), headers=writer)
    event_id = posted.json()["events"][0]["id"]

    # when it is read, with a request id
    read = traced.client.get(f"/v1/events/{event_id}", headers={"X-Request-ID": "desk-read-1"})

    # then its span is named by the route, not the path with the id, with status and id
    assert read.status_code == 200
    span = traced.span_of("desk-read-1")
    assert span.name == "GET /v1/events/{event_id}"
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/v1/events/{event_id}"
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["http.request.method"] == "GET"


def test_a_post_is_a_span_with_its_status_and_the_request_id_it_was_answered_with(
    traced: Traced, writer: Headers
) -> None:
    posted = traced.client.post("/v1/events", json=source_body(), headers=writer)

    assert posted.status_code == 201
    span = traced.span_of(posted.headers["x-request-id"])  # an id the service made
    assert span.name == "POST /v1/events"
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 201
    # the work inside it is in child spans of the same trace
    children = [s for s in traced.exporter.get_finished_spans() if s.parent is not None]
    assert {"fastapi.dependencies", "fastapi.endpoint"} <= {s.name for s in children}
    assert all(s.context.trace_id == span.context.trace_id for s in children)


def test_a_refused_key_is_in_no_span(traced: Traced) -> None:
    # given a POST with a key that does not exist
    wrong = "ll_" + "w" * 43
    refused = traced.client.post(
        "/v1/events",
        json=source_body(),
        headers={"Authorization": f"Bearer {wrong}", "X-Request-ID": "wrong-key-1"},
    )

    # then the span says 401, and neither the key nor its header is in any span
    assert refused.status_code == 401
    span = traced.span_of("wrong-key-1")
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 401
    for each in traced.exporter.get_finished_spans():
        recorded = json.dumps(json.loads(each.to_json()), default=str).lower()
        assert wrong not in recorded
        assert "authorization" not in recorded and "bearer" not in recorded


def test_a_callers_trace_is_continued(traced: Traced) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{trace_id}-00f067aa0ba902b7-01"

    traced.client.get(
        "/v1/deployments", headers={"traceparent": traceparent, "X-Request-ID": "continued-1"}
    )

    span = traced.span_of("continued-1")
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.parent is not None and format(span.parent.span_id, "016x") == "00f067aa0ba902b7"


def test_probes_and_scrapes_are_not_traced(traced: Traced) -> None:
    for path in ("/healthz", "/metrics"):
        assert traced.client.get(path).status_code == 200

    assert traced.server_spans() == []


def test_a_log_line_of_a_traced_request_carries_its_trace(
    traced: Traced, access_lines: list[dict[str, Any]]
) -> None:
    traced.client.get("/v1/deployments", headers={"X-Request-ID": "joined-1"})

    span = traced.span_of("joined-1")
    [line] = [line for line in access_lines if line.get("request_id") == "joined-1"]
    assert line["trace_id"] == format(span.context.trace_id, "032x")
    assert line["span_id"] == format(span.context.span_id, "016x")


def test_off_by_default_no_provider_is_installed_and_answers_are_unchanged(
    client: TestClient, traced: Traced, access_lines: list[dict[str, Any]]
) -> None:
    # given the default settings
    app: FastAPI = client.app  # type: ignore[assignment]
    assert app.state.telemetry is None
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)

    # when the same questions are asked of it and of a traced app
    for n, path in enumerate(("/v1/deployments", "/v1/places?q=Kazan", "/v1/no-such-thing")):
        plain = client.get(path, headers={"X-Request-ID": f"plain-{n}"})
        with_spans = traced.client.get(path, headers={"X-Request-ID": f"traced-{n}"})

        # then the answers are the same (but for the ids asked), and only one made a span
        assert plain.status_code == with_spans.status_code
        assert plain.content == with_spans.content
        assert without_id(plain.headers) == without_id(with_spans.headers)
    assert len(traced.server_spans()) == 3
    plain_lines = [line for line in access_lines if line["request_id"].startswith("plain-")]
    assert len(plain_lines) == 3
    assert not any("trace_id" in line for line in plain_lines)


def without_id(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "x-request-id"}


# --- a real server ------------------------------------------------------------------


@dataclass
class OtlpReceiver:
    """An OpenTelemetry collector's OTLP/HTTP endpoint, as small as it gets: every POST
    kept, every one answered 200."""

    posts: list[tuple[str, str, bytes]] = field(default_factory=list)

    def serve(self) -> ThreadingHTTPServer:
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                posts.append((self.path, self.headers.get("Content-Type", ""), body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def spans(self) -> list[tuple[dict[str, str], Any]]:
        """(the resource's attributes, the span) of every span received."""
        found = []
        for path, _, body in list(self.posts):
            if path == "/v1/traces":
                for batch in ExportTraceServiceRequest.FromString(body).resource_spans:
                    resource = attributes_of(batch.resource.attributes)
                    found += [(resource, s) for scope in batch.scope_spans for s in scope.spans]
        return found

    def metric_names(self) -> set[str]:
        names = set()
        for path, _, body in list(self.posts):
            if path == "/v1/metrics":
                for batch in ExportMetricsServiceRequest.FromString(body).resource_metrics:
                    names |= {m.name for scope in batch.scope_metrics for m in scope.metrics}
        return names


def attributes_of(pairs: Any) -> dict[str, Any]:
    def value(pair: KeyValue) -> Any:
        kind = pair.value.WhichOneof("value")
        return getattr(pair.value, kind) if kind else None

    return {pair.key: value(pair) for pair in pairs}


@pytest.fixture
def receiver() -> Iterator[tuple[OtlpReceiver, str]]:
    kept = OtlpReceiver()
    server = kept.serve()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield kept, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def eventually(found: Callable[[], Any], within: float = 15.0) -> Any:
    deadline = time.monotonic() + within
    while not (result := found()):
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)
    return result


def json_lines(log: Path) -> list[dict[str, Any]]:
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    for line in lines:
        assert line.startswith("{"), f"not a JSON line: {line!r}"
    return [json.loads(line) for line in lines]


def test_uvicorn_on_the_factory_sends_spans_and_metrics_to_the_otlp_endpoint(
    database_url: str,
    tmp_path: Path,
    receiver: tuple[OtlpReceiver, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given plain uvicorn on the app factory, traced, with OpenTelemetry's own variables
    kept, endpoint = receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "ledger-under-test")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # ms: sent at once, not in 5 s
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "300")
    log = tmp_path / "uvicorn.log"
    settings = {"otel_enabled": "true", "warm_views_on_start": "false"}
    with serving(database_url, log, server=UVICORN_FACTORY, **settings) as base:
        # when a reader asks for a view
        answer = httpx.get(f"{base}/v1/deployments", headers={"X-Request-ID": "otlp-read-1"})
        assert answer.status_code == 200

        # then its span reaches the endpoint, with the route, the status and the id
        def read_span() -> list[tuple[dict[str, str], Any]]:
            return [
                (resource, span)
                for resource, span in kept.spans()
                if attributes_of(span.attributes).get("request_id") == "otlp-read-1"
            ]

        [(resource, span)] = eventually(read_span)
        assert span.name == "GET /v1/deployments"
        attributes = attributes_of(span.attributes)
        assert attributes["http.route"] == "/v1/deployments"
        assert attributes["http.response.status_code"] == 200
        assert resource["service.name"] == "ledger-under-test"
        # and so do the HTTP metrics
        eventually(lambda: "http.server.request.duration" in kept.metric_names())

    # sent as OTLP's http/protobuf; the readiness probes made no span
    assert {content_type for _, content_type, _ in kept.posts} == {"application/x-protobuf"}
    assert not [s for _, s in kept.spans() if s.name == "GET /healthz"]
    # and the request's log line names the same trace
    [line] = [line for line in json_lines(log) if line.get("request_id") == "otlp-read-1"]
    assert line["trace_id"] == span.trace_id.hex()


def test_uvicorn_on_the_factory_logs_json_lines(database_url: str, tmp_path: Path) -> None:
    # given plain uvicorn on the app factory, as an operator might run it
    log = tmp_path / "uvicorn.log"
    with serving(database_url, log, server=UVICORN_FACTORY, warm_views_on_start="false") as base:
        # when a reader asks for a view
        httpx.get(f"{base}/v1/deployments", headers={"X-Request-ID": "plain-1"})
        time.sleep(0.3)  # the access line is written after the answer

    # then every line it wrote is JSON: uvicorn's own, and ours with the request id
    lines = json_lines(log)
    assert any(
        line["logger"] == "uvicorn.error" and line["event"] == "Application startup complete."
        for line in lines
    )
    [access] = [line for line in lines if line.get("request_id") == "plain-1"]
    assert (access["logger"], access["path"], access["status"]) == (
        "service.access",
        "/v1/deployments",
        200,
    )
    assert "trace_id" not in access  # telemetry off
    assert not any(line["logger"] == "uvicorn.access" for line in lines)  # ours says it


def test_uvicorn_log_level_is_kept(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "uvicorn.log"
    with serving(
        database_url,
        log,
        "--log-level",
        "warning",
        server=UVICORN_FACTORY,
        warm_views_on_start="false",
    ) as base:
        httpx.get(f"{base}/v1/deployments")
        time.sleep(0.3)

    assert not any(line["level"] == "info" for line in json_lines(log))
