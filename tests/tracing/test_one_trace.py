"""One trace from an async request to its webhook, exported in memory.

A real server with its in-process worker (both backends: the job row carries the trace context
through each job store), the model a local OpenAI-style HTTP server, the webhook a real HTTP
receiver. The client starts the trace with its own `traceparent`; every span exported, and
the context the model server and the receiver were sent, must belong to that trace, nested as
request -> job -> model calls and request -> job -> delivery job -> POST. The webhook's URL
carries a secret that no exported span may show.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from practicegen import tracing
from practicegen_client import AsyncClient
from tests.conftest import ADMIN_KEY, make_settings
from tests.generation.test_llm_jobs import GUIDE, llm_settings, seed_short_bank, serve
from tests.support.fake_llm import FakeLlm, Mode, running_fake_llm
from tests.support.processes import wait_until
from tests.support.receiver import webhook_receiver

TRACE_ID = uuid.uuid4().hex
CLIENT_SPAN_ID = "00f067aa0ba902b7"
HOOK_SECRET = "hook-query-secret-6d1e"
ON_LOOPBACK: dict[str, Any] = {"ssrf_allowlist": ["127.0.0.1"]}


@pytest.fixture
def exported(database_url: str) -> Iterator[InMemorySpanExporter]:
    """Tracing on for this process, into memory, for the test's length."""
    exporter = InMemorySpanExporter()
    assert tracing.start(make_settings(database_url), exporter)
    try:
        yield exporter
    finally:
        tracing.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    async with running_fake_llm(FakeLlm(seed=5)) as server:
        yield server


def hex_id(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    found = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        found.append(span)
    return found


def tree(spans: list[ReadableSpan]) -> str:
    """The spans as an indented outline, for a failure's message."""
    by_id = {s.context.span_id: s for s in spans}
    return "\n".join(
        "  " * len(ancestors(s, by_id)) + f"{s.name} [{s.kind.name}]"
        for s in sorted(spans, key=lambda s: s.start_time or 0)
    )


def traced_from(header: str | None) -> str | None:
    """The trace id of a `traceparent` header."""
    return header.split("-")[1] if header else None


async def test_one_trace_from_request_to_webhook(
    database_url: str, fake: FakeLlm, exported: InMemorySpanExporter
) -> None:
    fake.queue.append(Mode.RATE_LIMITED)  # one model call fails and is repeated
    fake.retry_after_s = 0.05
    async with (
        await serve(database_url, **llm_settings(database_url, fake), **ON_LOOPBACK) as server,
        AsyncClient(server.base_url, ADMIN_KEY) as client,
        webhook_receiver() as receiver,
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
    ):
        await seed_short_bank(client)
        student = (await client.create_student()).student_id
        created = await http.post(
            "/api/v1/practice/assign/async",
            json={
                **GUIDE,
                "student_id": str(student),
                "webhook_url": f"{receiver.url}?api_key={HOOK_SECRET}",
            },
            headers={
                "Authorization": f"Bearer {ADMIN_KEY}",
                "traceparent": f"00-{TRACE_ID}-{CLIENT_SPAN_ID}-01",
            },
        )
        assert created.status_code == 202, created.text
        (delivered,) = await receiver.wait_for(1)

        async def delivery_span_ended() -> list[ReadableSpan] | None:
            tracing.flush()
            spans = list(exported.get_finished_spans())
            return spans if any(s.name == "job webhook_delivery" for s in spans) else None

        spans = await wait_until(delivery_span_ended, limit_s=10, what="the delivery's span")

    outline = tree(spans)
    # the other requests (the bank's import, the student) have traces of their own
    others = [s for s in spans if hex_id(s.context.trace_id, 32) != TRACE_ID]
    # (their request spans and FastAPI's steps within them, nothing of a job)
    stray = [s for s in others if s.kind is not SpanKind.SERVER and s.name[:8] != "fastapi."]
    assert stray == [], outline
    spans = [s for s in spans if s not in others]
    by_id = {s.context.span_id: s for s in spans}

    (request,) = [
        s
        for s in spans
        if s.kind is SpanKind.SERVER
        and s.attributes
        and s.attributes.get("http.route") == "/api/v1/practice/assign/async"
    ]
    assert request.parent is not None and hex_id(request.parent.span_id, 16) == CLIENT_SPAN_ID

    (job,) = [s for s in spans if s.name == "job practice_generation"]
    assert job.kind is SpanKind.CONSUMER and request in ancestors(job, by_id), outline
    assert job.attributes is not None and job.attributes["job.id"] == created.json()["job_id"]

    chats = [s for s in spans if s.name == "chat fake-model"]
    assert len(chats) == len(fake.requests) >= 2, outline
    assert all(job in ancestors(chat, by_id) for chat in chats), outline
    limited = [c for c in chats if c.status.status_code is StatusCode.ERROR]
    assert len(limited) == 1, outline  # the 429, repeated in a span of its own
    answered = [c for c in chats if c.status.status_code is not StatusCode.ERROR]
    assert all(c.attributes and c.attributes["gen_ai.usage.output_tokens"] for c in answered)
    # the model server was told which call each request was
    sent = {traced_from(r.headers.get("traceparent")) for r in fake.requests}
    assert sent == {TRACE_ID}
    parents = {r.headers["traceparent"].split("-")[2] for r in fake.requests}
    assert parents == {hex_id(c.context.span_id, 16) for c in chats}

    (delivery,) = [s for s in spans if s.name == "job webhook_delivery"]
    assert job in ancestors(delivery, by_id), outline
    (post,) = [s for s in spans if s.kind is SpanKind.CLIENT and s.name == "POST"]
    assert ancestors(post, by_id)[0] is delivery, outline
    assert (post.attributes or {}).get("url.full") == f"{receiver.url}?api_key=[redacted]"
    assert traced_from(delivered.headers.get("traceparent")) == TRACE_ID

    everything: list[Any] = [s.to_json() for s in spans]
    assert HOOK_SECRET not in "".join(everything)
    assert ADMIN_KEY not in "".join(everything)
