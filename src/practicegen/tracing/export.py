"""The span pipeline behind `tracing.start`: sampler, resource, batching, secret redaction and
the OTLP/HTTP exporter; imported only when tracing is on, as it loads the SDK. Every span passes
`RedactingExporter` on its way out, so no key, token or URL credential that any code (ours or a
library's) put on a span reaches the trace backend: the log lines' rule, and their `redact`.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Status

from practicegen import __version__
from practicegen.config import Settings
from practicegen.redaction import redact, redact_query, redacted

MAX_ATTRIBUTE_LENGTH = 4096
"""Characters of one attribute's text that are kept."""
EXPORT_TIMEOUT_S = 10.0
"""One export request's limit; spans are sent from the SDK's own thread, never the loop's."""
STOP_LIMIT_S = 3.0
"""How long stopping waits for the last spans to go out. A dead collector has the exporter
retrying each batch for up to `EXPORT_TIMEOUT_S`; a stopping node drops them instead."""


def provider_for(
    settings: Settings, exporter: SpanExporter | None = None
) -> tuple[TracerProvider, BatchSpanProcessor]:
    """A provider sampling and naming spans as `settings` say, exporting through `exporter`
    (default: OTLP/HTTP to `settings.otlp_endpoint`), secrets redacted on the way; and its
    batching processor, which `stop_within` ends (the provider's own exit hook is off)."""
    provider = TracerProvider(
        shutdown_on_exit=False,
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
        resource=Resource(
            {
                "service.name": settings.trace_service_name,
                "service.version": __version__,
                "host.name": socket.gethostname(),
                "process.pid": os.getpid(),  # which node of several did the work
            }
        ),
        # a reply's text (a model's error, say) is no reason to ship megabytes of it
        span_limits=SpanLimits(max_attribute_length=MAX_ATTRIBUTE_LENGTH),
    )
    sink = exporter if exporter is not None else otlp_exporter(settings)
    batches = BatchSpanProcessor(RedactingExporter(sink))
    provider.add_span_processor(batches)
    return provider, batches


def stop_within(provider: TracerProvider, batches: BatchSpanProcessor) -> None:
    """Send what is buffered for up to `STOP_LIMIT_S`, then stop the exporter (cutting short
    any retry) and drop the rest: the SDK's shutdown, which takes no limit, runs on a thread."""
    stopping = threading.Thread(target=provider.shutdown, name="tracing-stop", daemon=True)
    stopping.start()
    stopping.join(STOP_LIMIT_S)
    if stopping.is_alive():
        batches.span_exporter.shutdown()
        stopping.join(STOP_LIMIT_S / 10)


def otlp_exporter(settings: Settings) -> OTLPSpanExporter:
    if settings.otlp_endpoint is None:
        raise ValueError("no OTLP endpoint is configured")
    return OTLPSpanExporter(
        endpoint=settings.otlp_endpoint.rstrip("/") + "/v1/traces",
        headers=parse_headers(settings.otlp_headers.get_secret_value())
        if settings.otlp_headers
        else None,
        timeout=EXPORT_TIMEOUT_S,
    )


def parse_headers(text: str) -> dict[str, str]:
    """`name=value,name=value` (the OTLP exporters' own format) as a mapping."""
    pairs = (pair.split("=", 1) for pair in text.split(",") if pair.strip())
    return {name.strip(): value.strip() for name, value in pairs}


class RedactingExporter(SpanExporter):
    """Hands `inner` copies of the spans with every string in them redacted."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self._stopped = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([redacted_span(span) for span in spans])

    def shutdown(self) -> None:
        if not self._stopped.is_set():  # a second call, from a stop cut short, is no news
            self._stopped.set()
            self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def redacted_span(span: ReadableSpan) -> ReadableSpan:
    description = span.status.description
    return ReadableSpan(
        name=redact(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_attributes(span.attributes),
        events=[Event(e.name, _attributes(e.attributes), e.timestamp) for e in span.events],
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code, redact(description) if description else None),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        key: redact_query(value)
        if key == "url.query" and isinstance(value, str)
        else redacted(value)
        for key, value in (attributes or {}).items()
    }
