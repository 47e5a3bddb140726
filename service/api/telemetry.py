"""Traces and HTTP metrics through FastAPI's own OpenTelemetry support, off unless
`LEDGER_OTEL_ENABLED`.

FastAPI makes the spans itself (`FastAPI(telemetry=...)`, fastapi.telemetry): one server
span a request, named by its route template (`GET /v1/events/{event_id}`, never the path
with its ids), with the status, and children for the dependencies, the endpoint and the
serialization. It needs a provider to hand them to: this module builds the OpenTelemetry
SDK's, and adds the request's `X-Request-ID` to its span so that a trace and the log
lines of the same request find each other (the log lines carry `trace_id` and `span_id`:
api/logs.py).

Where they go is OpenTelemetry's standard environment: with `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `_METRICS_ENDPOINT`) spans and the
`http.server.*` metrics are sent over OTLP (http/protobuf); without one, spans are made
(the log lines still join a caller's trace) and kept nowhere. `OTEL_SERVICE_NAME` names
the service (`labor-ledger` by default).

The span's attributes are FastAPI's: method, route, path, query, status, server address,
the type of an error. No header is recorded, so no `Authorization`; keys travel only in
that header, never in a path or a query.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import (
    SERVICE_INSTANCE_ID,
    SERVICE_NAME,
    SERVICE_VERSION,
    Resource,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from starlette.types import ASGIApp, Receive, Scope, Send

from service.settings import Settings

SERVICE = "labor-ledger"
REQUEST_ID_ATTRIBUTE = "request_id"
"""The same name as the log lines' field: one search finds the span and the lines."""
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probes and scrapes, every few seconds from machines: spans of nothing a reader asked."""

OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    # FASTAPI_OTEL_AUTO_CONFIGURE would otherwise install global providers of its own.
    "auto_configure": False,
}


@dataclass
class Telemetry:
    """The providers of one process's app; `metrics` only when there is somewhere to send
    them (Prometheus' `/metrics` has the same figures for a scrape)."""

    traces: TracerProvider
    metrics: MeterProvider | None

    def config(self) -> TelemetryConfig:
        return {
            "tracer_provider": self.traces,
            "meter_provider": self.metrics,
            "tracing": True,
            "metrics": self.metrics is not None,
            # Our log lines (api/logs.py) already say what failed, with the trace's ids;
            # OpenTelemetry's log records would repeat them, exception messages included.
            "logs": False,
            "auto_configure": False,  # the exporters are ours, below
            "exclude": lambda scope: scope.get("path") in UNTRACED_PATHS,
        }

    def flush(self) -> None:
        """At shutdown: what is batched is sent (the providers shut down at exit)."""
        self.traces.force_flush()
        if self.metrics is not None:
            self.metrics.force_flush()


def build_telemetry(settings: Settings, service_version: str) -> Telemetry | None:
    """None when telemetry is off: FastAPI then makes no span and installs nothing."""
    if not settings.otel_enabled:
        return None
    resource = _resource(service_version)
    traces = TracerProvider(resource=resource)
    if _exported("TRACES"):
        traces.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    metrics = (
        MeterProvider(
            resource=resource, metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())]
        )
        if _exported("METRICS")
        else None
    )
    return Telemetry(traces=traces, metrics=metrics)


def telemetry_config(telemetry: Telemetry | None) -> TelemetryConfig:
    return OFF if telemetry is None else telemetry.config()


def _exported(signal: str) -> bool:
    """Whether OpenTelemetry's environment names an OTLP endpoint for this signal (the
    exporters read it themselves; without one they would send to localhost:4318)."""
    if os.environ.get(f"OTEL_{signal}_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return bool(
        os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def _resource(service_version: str) -> Resource:
    """OpenTelemetry's environment (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`) first;
    ours where it says nothing."""
    # Each worker process is an instance of its own: without an id, the cumulative
    # metrics of N workers would be read as one series that keeps resetting.
    ours = Resource({SERVICE_VERSION: service_version, SERVICE_INSTANCE_ID: str(uuid.uuid4())})
    resource = ours.merge(Resource.create())
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: SERVICE}))  # the SDK's fallback
    return resource


class RequestIdOnSpan:
    """Inside RequestContext, which chose the id: it goes on the request's span."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request_id = scope.get("state", {}).get("request_id")
            if request_id is not None:
                trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
        await self.app(scope, receive, send)
