"""OpenTelemetry tracing: one trace from a request through its job's attempts (which may run
on another machine: the job's row keeps its creator's W3C `traceparent`), each model call and
the webhook delivery, exported over OTLP when an endpoint is configured.

These hooks use OpenTelemetry's API only and return at once when tracing is off; `start` alone
loads the SDK (`tracing.export`). Tracing is one per process, as OpenTelemetry's provider is.
"""

from __future__ import annotations

import atexit
import contextlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import httpx
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from practicegen.config import Settings
from practicegen.errors import InvalidRequest

if TYPE_CHECKING:
    from fastapi.telemetry import TelemetryConfig
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

Attributes = Mapping[str, str | int | float | bool]
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Paths probed every few seconds: a span each would bury the traces people look for."""

_W3C = TraceContextTextMapPropagator()
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})
_NOTHING = contextlib.nullcontext()
_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class TracingUnavailable(InvalidRequest):
    code = "tracing_unavailable"
    default_message = (
        "An OTLP endpoint is set, but the tracing packages are not installed:"
        " pip install 'practicegen[tracing]', or unset the endpoint."
    )


@dataclass(frozen=True, slots=True)
class _Tracing:
    provider: TracerProvider
    batches: BatchSpanProcessor
    tracer: trace.Tracer


_state: _Tracing | None = None


def start(settings: Settings, exporter: SpanExporter | None = None) -> bool:
    """Turn tracing on for this process if `settings` name an OTLP endpoint, or `exporter` is
    given (a test's in-memory one); whether it is on. Needs the `tracing` extra."""
    global _state  # noqa: PLW0603  # one provider per process, as OpenTelemetry's own
    if exporter is None and settings.otlp_endpoint is None:
        return False
    try:
        from practicegen.tracing.export import provider_for
    except ImportError as exc:  # the SDK comes with the `tracing` extra only
        raise TracingUnavailable() from exc
    provider, batches = provider_for(settings, exporter)
    stop()  # a second start replaces the first, its spans sent
    atexit.register(stop)  # the provider's own hook would wait 30 s on a dead collector
    _state = _Tracing(provider, batches, provider.get_tracer("practicegen"))
    return True


def stop() -> None:
    """Export what is buffered, for a few seconds at most, and turn tracing off."""
    global _state
    if _state is not None:
        from practicegen.tracing.export import stop_within

        state, _state = _state, None
        atexit.unregister(stop)
        stop_within(state.provider, state.batches)


def flush() -> None:
    """Hand every ended span to the exporter now."""
    if _state is not None:
        _state.provider.force_flush()


def active() -> bool:
    return _state is not None


def fastapi_telemetry() -> TelemetryConfig:
    """FastAPI's own request spans, on this process's provider; nothing when tracing is off
    (not even where some other code set a global provider). Metrics stay with Prometheus."""
    if _state is None:
        return _OFF
    return {
        "tracer_provider": _state.provider,
        "metrics": False,
        "logs": False,
        "exclude": lambda scope: scope.get("path") in UNTRACED_PATHS,
    }


def traceparent() -> str | None:
    """The current span's W3C `traceparent`, to store beside work done later; None when
    tracing is off or no span is current."""
    if _state is None:
        return None
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get("traceparent")


def consumer_span(
    name: str, traceparent: str | None, attributes: Attributes
) -> contextlib.AbstractContextManager[object]:
    """A span for work taken from a queue: the child of the `traceparent` stored when it was
    queued (a new trace without one), never of whatever span happens to be current."""
    if _state is None:
        return _NOTHING
    parent = _W3C.extract({"traceparent": traceparent}) if traceparent else Context()
    return _state.tracer.start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    )


def client_span(
    name: str, attributes: Attributes
) -> contextlib.AbstractContextManager[Mapping[str, str]]:
    """A span for a call to another service; yields the headers that carry it there (none
    when tracing is off)."""
    if _state is None:
        return contextlib.nullcontext(_NO_HEADERS)
    return _client_span(_state.tracer, name, attributes)


@contextlib.contextmanager
def _client_span(
    tracer: trace.Tracer, name: str, attributes: Attributes
) -> Iterator[Mapping[str, str]]:
    with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes):
        headers: MutableMapping[str, str] = {}
        _W3C.inject(headers)
        yield headers


def http_span(method: str, url: str) -> contextlib.AbstractContextManager[Mapping[str, str]]:
    """`client_span` for one HTTP request, named and described by OpenTelemetry's HTTP
    conventions, as FastAPI names the server's spans."""
    if _state is None:
        return contextlib.nullcontext(_NO_HEADERS)
    target = httpx.URL(url)
    attributes: dict[str, str | int] = {
        "http.request.method": method,
        "url.full": url,  # redacted on export, as any attribute
        "server.address": target.host,
        "server.port": target.port or (443 if target.scheme == "https" else 80),
    }
    return _client_span(_state.tracer, method, attributes)


def responded(status_code: int) -> None:
    """The current HTTP client span's answer: 4xx and 5xx mark it failed."""
    if _state is not None:
        span = trace.get_current_span()
        span.set_attribute("http.response.status_code", status_code)
        if status_code >= 400:
            span.set_attribute("error.type", str(status_code))
            span.set_status(Status(StatusCode.ERROR))


def annotate(attributes: Attributes) -> None:
    if _state is not None:
        trace.get_current_span().set_attributes(attributes)


def failed(exc: BaseException, description: str | None = None) -> None:
    """Mark the current span failed by `exc` (for a failure handled, not raised through it)."""
    if _state is not None:
        span = trace.get_current_span()
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, description or type(exc).__name__))


def current_ids() -> tuple[str, str] | None:
    """The current trace and span ids in hex, as trace backends show them; None when tracing
    is off or no span is current."""
    if _state is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
