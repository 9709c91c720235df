"""Writing questions the item bank lacks with an OpenAI-compatible chat model, keeping only
verified ones: a draft that fails its check or never arrives is counted by reason and rewritten.

Requests go through the SDK's aiohttp transport (httpx's pool costs CPU per request held when a
thousand are in flight) and its bare `post` (`create` checks every argument, at a cost). The
SDK's retries are off: a 429 is retried here after its `Retry-After`, without holding a slot,
and at once a kept-alive connection the server closed unanswered.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import aiohttp
import httpx2
import openai
import structlog
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from practicegen import tracing
from practicegen.generation.llm_kind import (
    PROMPT_VERSION,
    ChoiceKind,
    EquationKind,
    QuestionKind,
    prompt_messages,
)
from practicegen.generation.llm_verify import Reason
from practicegen.grading.sympy_pool import SympyPool
from practicegen.items.fingerprint import fingerprint
from practicegen.items.schemas import ItemContent

log = structlog.get_logger()
__all__ = ["PROMPT_VERSION", "LlmBatch", "LlmGenerator", "Usage"]
MAX_EXAMPLES = 3

LlmProgress = Callable[[int, int, str], Awaitable[None]]
_Hook = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.total_tokens + other.total_tokens,
        )


@dataclass(slots=True)
class LlmBatch:
    """What one `generate` call produced: accepted items, why others were dropped, the cost."""

    requested: int
    items: list[ItemContent] = field(default_factory=list)
    rejections: Counter[str] = field(default_factory=Counter)  # Reason value -> count
    usage: Usage = field(default_factory=Usage)


class _Failed(Exception):
    """One request that produced no usable reply; `reason` says why."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Request:
    kind: QuestionKind
    body: dict[str, Any]  # of every request for the batch's questions
    asked: dict[str, Any]  # subject, topic, skill and difficulty, for `QuestionKind.item`


class LlmGenerator:
    """Writes verified questions with an OpenAI-compatible chat model.

    `concurrency` caps requests in flight over all batches; `attempts_per_question` counts the
    first try; `verify_timeout_s` bounds a draft's sympy check once it runs, `check_queue_s` its
    wait for a free process. `choice_check`, a second model, answers multiple-choice questions
    to check their keys (the generator closes it).
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout_s: float = 30.0,
        verify_timeout_s: float = 5.0,
        check_queue_s: float = 10.0,
        concurrency: int = 4,
        attempts_per_question: int = 3,
        rate_limit_retries: int = 3,
        max_retry_wait_s: float = 10.0,
        temperature: float = 0.7,
        response_format: Literal["json_schema", "json_object"] = "json_schema",
        self_consistency_samples: int = 5,
        sympy_pool: SympyPool | None = None,
        choice_check: LlmGenerator | None = None,
    ) -> None:
        if concurrency < 1 or attempts_per_question < 1 or rate_limit_retries < 0:
            raise ValueError("concurrency and attempts must be at least 1, retries at least 0")
        self.model = model
        self.attempts_per_question = attempts_per_question
        self.rate_limit_retries = rate_limit_retries
        self.max_retry_wait_s = max_retry_wait_s
        self.temperature = temperature
        self.response_format = response_format
        self.choice_check = choice_check
        # One connection for every request in flight, and no retries of the SDK's own.
        connections = httpx2.Limits(
            max_connections=concurrency, max_keepalive_connections=concurrency
        )
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout_s,
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(limits=connections),
        )
        self._semaphore = asyncio.Semaphore(concurrency)
        # OpenTelemetry's names for a chat call (its GenAI conventions)
        self._traced = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model}
        self._own_pool = sympy_pool is None
        self._sympy = sympy_pool or SympyPool(workers=1)
        equation = EquationKind(
            verify_timeout_s=verify_timeout_s, check_queue_s=check_queue_s, pool=self._sympy
        )
        choice = ChoiceKind(samples=self_consistency_samples, check=choice_check)
        self.kinds: dict[str, QuestionKind] = {kind.name: kind for kind in (equation, choice)}

    async def aclose(self) -> None:
        await self._client.close()
        if self.choice_check is not None:
            await self.choice_check.aclose()
        if self._own_pool:
            await self._sympy.aclose()

    async def generate(
        self,
        skill: str,
        topic: str,
        subject: str,
        difficulty: float,
        examples: Sequence[ItemContent],
        count: int,
        progress: LlmProgress | None = None,
        kind: str = "equation",
    ) -> LlmBatch:
        """Write `count` questions of `kind` ("equation" or "multiple_choice") concurrently;
        fewer come back if some never pass."""
        how = self.kinds[kind]
        shown = [e for e in examples if e.type == how.item_type][:MAX_EXAMPLES]
        messages = prompt_messages(how, skill, topic, subject, difficulty, shown)
        asked = {"subject": subject, "topic": topic, "skill": skill, "difficulty": difficulty}
        request = _Request(how, self._body(messages, how.schema_name, how.schema), asked)
        batch = LlmBatch(requested=count)
        started = 0
        seen = {fingerprint(e) for e in shown}  # every question of the batch is of one skill

        async def report_start() -> None:
            nonlocal started
            started += 1
            if progress is not None:
                await progress(started, count, f"Generating AI question {started} of {count}...")

        results = await asyncio.gather(
            *(self._question(request, batch, seen, report_start) for _ in range(count))
        )
        batch.items = [item for item in results if item is not None]
        return batch

    async def _question(
        self, request: _Request, batch: LlmBatch, seen: set[str], report_start: _Hook
    ) -> ItemContent | None:
        """One question slot: try, and on rejection write it again, up to the attempt limit."""
        skill = request.asked["skill"]
        for attempt in range(self.attempts_per_question):
            try:
                item = await self._attempt(request, batch, report_start if attempt == 0 else None)
                key = fingerprint(item)
                if key in seen:
                    raise _Failed(Reason.DUPLICATE, key)
            except _Failed as failed:
                batch.rejections[failed.reason.value] += 1
                log.info(
                    "llm.rejected", skill=skill, reason=failed.reason.value, detail=str(failed)
                )
                continue
            seen.add(key)
            return item
        return None

    async def _attempt(
        self, request: _Request, batch: LlmBatch, report_start: _Hook | None
    ) -> ItemContent:
        reply = await self._complete(request.body, batch, report_start)
        try:
            item = request.kind.item(reply, **request.asked)
        except ValidationError as exc:
            raise _Failed(Reason.MALFORMED, str(exc)) from exc
        item.provenance["model"] = self.model
        answers = request.kind.check or self
        verdict = await request.kind.verify(item, partial(answers.complete_json, batch=batch))
        if verdict.reason is not None:
            raise _Failed(verdict.reason, verdict.detail)
        return item

    async def complete_json(
        self,
        messages: list[dict[str, str]],
        schema_name: str,
        schema: dict[str, Any],
        batch: LlmBatch | None = None,
    ) -> dict[str, Any] | None:
        """One structured request (for `llm_verify.self_consistency`): the object, or None;
        its tokens count towards `batch`, if given."""
        try:
            return await self._complete(self._body(messages, schema_name, schema), batch, None)
        except _Failed:
            return None

    def _body(
        self, messages: list[dict[str, str]], schema_name: str, schema: dict[str, Any]
    ) -> dict[str, Any]:
        json_format: dict[str, Any] = {"type": self.response_format}
        if self.response_format == "json_schema":
            json_format["json_schema"] = {"name": schema_name, "strict": True, "schema": schema}
        return {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "response_format": json_format,
        }

    async def _complete(
        self, body: dict[str, Any], batch: LlmBatch | None, report_start: _Hook | None
    ) -> dict[str, Any]:
        """One request, repeated up to the retry limit after a 429 or a connection the server
        closed unanswered (most often a kept-alive one it closed as the pool handed it out)."""
        for retry in itertools.count():
            last = retry == self.rate_limit_retries
            try:
                async with self._semaphore:
                    if report_start is not None:
                        await report_start()
                        report_start = None
                    completion = await self._post(body)
                break
            except openai.RateLimitError as exc:
                if last:
                    raise _Failed(Reason.RATE_LIMITED, str(exc)) from exc
                await asyncio.sleep(self._retry_wait(exc, retry))
            except openai.APIConnectionError as exc:  # timeouts included
                if isinstance(exc, openai.APITimeoutError) and _timed_out(exc):
                    raise _Failed(Reason.MODEL_TIMEOUT, str(exc)) from exc
                if last:
                    raise _Failed(Reason.SERVER_ERROR, str(exc)) from exc
            except openai.APIStatusError as exc:
                raise _Failed(Reason.SERVER_ERROR, str(exc)) from exc
        if completion.usage is not None and batch is not None:
            u = completion.usage  # a count below zero would take back other replies' tokens
            counts = (u.prompt_tokens, u.completion_tokens, u.total_tokens)
            batch.usage += Usage(*(max(0, count) for count in counts))
        content = completion.choices[0].message.content if completion.choices else None
        try:
            data = json.loads(content or "")
        except json.JSONDecodeError as exc:
            raise _Failed(Reason.MALFORMED, f"not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise _Failed(Reason.MALFORMED, "not a JSON object")
        return data

    async def _post(self, body: dict[str, Any]) -> ChatCompletion:
        """One chat request, in a span of its own that a traced model server continues."""
        with tracing.client_span(f"chat {self.model}", self._traced) as headers:
            completion = await self._client.post(
                "/chat/completions", body=body, cast_to=ChatCompletion, options={"headers": headers}
            )
            tracing.annotate(_usage_attributes(completion))
        return completion

    def _retry_wait(self, exc: openai.RateLimitError, retry: int) -> float:
        """The server's `Retry-After` in seconds if it gave one, else 0.5, 1, 2...; capped."""
        try:
            wait = float(exc.response.headers.get("retry-after", ""))
        except ValueError:
            wait = 0.5 * 2**retry
        return min(max(wait, 0.0), self.max_retry_wait_s)


def _usage_attributes(completion: ChatCompletion) -> dict[str, int | str]:
    """What a model's reply says of itself, for its span."""
    found: dict[str, int | str] = {"gen_ai.response.model": completion.model}
    if completion.usage is not None:
        found["gen_ai.usage.input_tokens"] = completion.usage.prompt_tokens
        found["gen_ai.usage.output_tokens"] = completion.usage.completion_tokens
    return found


def _timed_out(exc: openai.APITimeoutError) -> bool:
    """Whether the SDK's timeout error is one: its aiohttp transport also reports a server that
    hung up before answering (aiohttp's ServerDisconnectedError) as a connect timeout."""
    cause = exc.__cause__
    while cause is not None:
        if isinstance(cause, aiohttp.ClientConnectionError) and not isinstance(cause, TimeoutError):
            return False
        cause = cause.__cause__
    return True
