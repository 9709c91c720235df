"""Writing questions the item bank lacks with a language model, and keeping only verified ones.

The model is any server speaking the OpenAI chat completions API (a hosted service or a local
one), reached with `openai.AsyncOpenAI`. It is asked for structured JSON: a Markdown stem, the
problem in sympy-readable form, its claimed answer, worked steps and distractors; up to three
bank items of the same skill are shown as examples so new questions match the bank's style.
Nothing the model says is trusted: every draft goes through `llm_verify`, which solves the
problem again with sympy, and a draft that fails (or never arrives: malformed JSON, a timeout,
a rate limit, a server error) is counted by reason and written again, up to a limit.

Questions are written concurrently, but one semaphore per generator caps requests in flight
across every batch, so a burst of assignments cannot flood the model server. The SDK's own
retries are off: a 429 is retried here, honouring its `Retry-After` up to a cap, without
holding a semaphore slot while waiting.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import openai
import structlog
from openai.types.chat import ChatCompletionMessageParam
from openai.types.chat.completion_create_params import ResponseFormat
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from practicegen.generation.llm_verify import Reason, verify_item
from practicegen.items.schemas import AnswerPolicy, ItemContent, ItemSource, ItemType

log = structlog.get_logger()

PROMPT_VERSION = "llm-equation-v1"
QUESTION_SCHEMA_NAME = "practice_question"
MAX_EXAMPLES = 3

LlmProgress = Callable[[int, int, str], Awaitable[None]]
_Hook = Callable[[], Awaitable[None]]


async def _no_progress(_k: int, _n: int, _message: str) -> None:
    return None


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


class Distractor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=200)
    misconception: str = Field(min_length=1, max_length=100)


class Draft(BaseModel):
    """A question as the model writes it, before verification."""

    model_config = ConfigDict(extra="forbid")

    stem: str = Field(min_length=1, max_length=10_000)
    problem: str = Field(min_length=1, max_length=500)
    answer: str = Field(min_length=1, max_length=200)
    steps: list[str] = Field(min_length=1, max_length=20)
    distractors: list[Distractor] = Field(max_length=6)
    hints: list[str] = Field(min_length=1, max_length=10)


def _question_schema() -> dict[str, Any]:
    text = {"type": "string"}
    texts = {"type": "array", "items": text}
    distractor = {
        "type": "object",
        "properties": {"value": text, "misconception": text},
        "required": ["value", "misconception"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "stem": text,
            "problem": text,
            "answer": text,
            "steps": texts,
            "distractors": {"type": "array", "items": distractor},
            "hints": texts,
        },
        "required": ["stem", "problem", "answer", "steps", "distractors", "hints"],
        "additionalProperties": False,
    }


QUESTION_SCHEMA = _question_schema()

_SYSTEM = """You write math practice questions for students. Reply with one JSON object:
- "stem": the question in Markdown, math in $LaTeX$, showing every number of the problem;
- "problem": the equation in sympy syntax, e.g. "3*x + 4 = 19" (use * for multiplication);
- "answer": its one solution, e.g. "x = 5";
- "steps": the worked solution as sympy-syntax equations, each with the same solution;
- "distractors": 2-3 wrong answers {"value": "x = 7", "misconception": "snake_case_tag"};
- "hints": 1-3 hints; the first must not give the answer away."""


class _Failed(Exception):
    """One request that produced no usable reply; `reason` says why."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Request:
    subject: str
    topic: str
    skill: str
    difficulty: float
    messages: list[dict[str, str]]


class LlmGenerator:
    """Writes verified questions with an OpenAI-compatible chat model. Every knob is an argument.

    `concurrency` caps requests in flight over all batches; `attempts_per_question` counts the
    first try; `timeout_s` bounds one request, `verify_timeout_s` the sympy check of one
    draft; `rate_limit_retries` is how often one request is repeated after a 429, waiting
    its `Retry-After` (at most `max_retry_wait_s`). `response_format` is "json_schema" for
    servers with structured outputs, "json_object" for those with only JSON mode.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout_s: float = 30.0,
        verify_timeout_s: float = 5.0,
        concurrency: int = 4,
        attempts_per_question: int = 3,
        rate_limit_retries: int = 3,
        max_retry_wait_s: float = 10.0,
        temperature: float = 0.7,
        response_format: Literal["json_schema", "json_object"] = "json_schema",
    ) -> None:
        if concurrency < 1 or attempts_per_question < 1 or rate_limit_retries < 0:
            raise ValueError("concurrency and attempts must be at least 1, retries at least 0")
        self.model = model
        self.attempts_per_question = attempts_per_question
        self.rate_limit_retries = rate_limit_retries
        self.max_retry_wait_s = max_retry_wait_s
        self.temperature = temperature
        self.verify_timeout_s = verify_timeout_s
        self.response_format = response_format
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0
        )
        self._semaphore = asyncio.Semaphore(concurrency)
        self._spent = _Meter()

    @property
    def total_usage(self) -> Usage:
        """Every token this generator has spent, self-consistency checks included."""
        return self._spent.total

    async def aclose(self) -> None:
        await self._client.close()

    async def generate(
        self,
        skill: str,
        topic: str,
        subject: str,
        difficulty: float,
        examples: Sequence[ItemContent],
        count: int,
        progress: LlmProgress = _no_progress,
    ) -> LlmBatch:
        """Write `count` questions concurrently; fewer come back if some never pass."""
        messages = _messages(skill, topic, subject, difficulty, examples)
        request = _Request(subject, topic, skill, difficulty, messages)
        batch = LlmBatch(requested=count)
        meter = _Meter()
        started = 0
        seen = {_problem_key(e) for e in examples if "problem" in e.provenance}

        async def report_start() -> None:
            nonlocal started
            started += 1
            await progress(started, count, f"Generating AI question {started} of {count}...")

        results = await asyncio.gather(
            *(self._question(request, batch, meter, seen, report_start) for _ in range(count))
        )
        batch.items = [item for item in results if item is not None]
        batch.usage = meter.total
        return batch

    async def _question(
        self,
        request: _Request,
        batch: LlmBatch,
        meter: _Meter,
        seen: set[str],
        report_start: _Hook,
    ) -> ItemContent | None:
        """One question slot: try, and on rejection write it again, up to the attempt limit."""
        for attempt in range(self.attempts_per_question):
            try:
                first = report_start if attempt == 0 else None
                item = await self._attempt(request, meter, first)
                if _problem_key(item) in seen:
                    raise _Failed(Reason.DUPLICATE, str(item.provenance["problem"]))
            except _Failed as failed:
                batch.rejections[failed.reason.value] += 1
                log.info("llm.rejected", skill=request.skill, reason=failed.reason.value)
                continue
            seen.add(_problem_key(item))
            return item
        return None

    async def _attempt(
        self, request: _Request, meter: _Meter, report_start: _Hook | None
    ) -> ItemContent:
        reply = await self._complete(
            request.messages, QUESTION_SCHEMA_NAME, QUESTION_SCHEMA, meter, report_start
        )
        try:
            draft = Draft.model_validate(reply)
            item = _item(request, draft, self.model)
        except ValidationError as exc:
            raise _Failed(Reason.MALFORMED, str(exc)) from exc
        try:
            verdict = await asyncio.wait_for(
                asyncio.to_thread(verify_item, item), self.verify_timeout_s
            )
        except TimeoutError as exc:  # the thread runs on; mathparse's caps keep that short
            raise _Failed(Reason.TIMEOUT, "verification took too long") from exc
        if verdict.reason is not None:
            raise _Failed(verdict.reason, verdict.detail)
        item.provenance["verification"] = {"ok": True, "checks": _CHECKS}
        return item

    async def complete_json(
        self, messages: list[dict[str, str]], schema_name: str, schema: dict[str, Any]
    ) -> dict[str, Any] | None:
        """One structured request (for `llm_verify.SelfConsistency`): the object, or None."""
        try:
            return await self._complete(messages, schema_name, schema, _Meter(), None)
        except _Failed:
            return None

    async def _complete(
        self,
        messages: list[dict[str, str]],
        schema_name: str,
        schema: dict[str, Any],
        meter: _Meter,
        report_start: _Hook | None,
    ) -> dict[str, Any]:
        """One request, repeated after a 429 (outside the semaphore) up to the retry limit."""
        for retry in range(self.rate_limit_retries + 1):
            try:
                async with self._semaphore:
                    if report_start is not None:
                        await report_start()
                        report_start = None
                    return await self._call(messages, schema_name, schema, meter)
            except openai.RateLimitError as exc:
                if retry == self.rate_limit_retries:
                    raise _Failed(Reason.RATE_LIMITED, str(exc)) from exc
                await asyncio.sleep(self._retry_wait(exc, retry))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call(
        self,
        messages: list[dict[str, str]],
        schema_name: str,
        schema: dict[str, Any],
        meter: _Meter,
    ) -> dict[str, Any]:
        try:
            completion = await self._client.chat.completions.create(
                model=self.model,
                messages=cast("list[ChatCompletionMessageParam]", messages),
                temperature=self.temperature,
                response_format=cast("ResponseFormat", self._format(schema_name, schema)),
            )
        except openai.APITimeoutError as exc:
            raise _Failed(Reason.TIMEOUT, str(exc)) from exc
        except openai.RateLimitError:
            raise
        except (openai.APIStatusError, openai.APIConnectionError) as exc:
            raise _Failed(Reason.SERVER_ERROR, str(exc)) from exc
        if completion.usage is not None:
            u = completion.usage
            spent = Usage(u.prompt_tokens, u.completion_tokens, u.total_tokens)
            meter.add(spent)
            self._spent.add(spent)
        content = completion.choices[0].message.content if completion.choices else None
        return _json_object(content)

    def _format(self, schema_name: str, schema: dict[str, Any]) -> dict[str, Any]:
        if self.response_format == "json_object":
            return {"type": "json_object"}
        return {
            "type": "json_schema",
            "json_schema": {"name": schema_name, "strict": True, "schema": schema},
        }

    def _retry_wait(self, exc: openai.RateLimitError, retry: int) -> float:
        """The server's `Retry-After` in seconds if it gave one, else 0.5, 1, 2...; capped."""
        header = exc.response.headers.get("retry-after", "")
        try:
            wait = float(header)
        except ValueError:
            wait = 0.5 * 2**retry
        return min(max(wait, 0.0), self.max_retry_wait_s)


_CHECKS = ["unique_solution", "answer_matches", "steps_keep_solution_set", "distractors_differ"]


@dataclass(slots=True)
class _Meter:
    total: Usage = field(default_factory=Usage)

    def add(self, usage: Usage) -> None:
        self.total += usage


def _json_object(content: str | None) -> dict[str, Any]:
    try:
        data = json.loads(content or "")
    except json.JSONDecodeError as exc:
        raise _Failed(Reason.MALFORMED, f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _Failed(Reason.MALFORMED, "not a JSON object")
    return data


def _problem_key(item: ItemContent) -> str:
    return re.sub(r"\s+", "", str(item.provenance["problem"]))


def _messages(
    skill: str, topic: str, subject: str, difficulty: float, examples: Sequence[ItemContent]
) -> list[dict[str, str]]:
    shown = [_example(e) for e in examples[:MAX_EXAMPLES]]
    lines = [
        f"Subject: {subject}",
        f"Topic: {topic}",
        f"Skill: {skill}",
        f"Difficulty: {_difficulty_words(difficulty)} ({difficulty:+.1f} on a logit scale)",
        "Write one new question for this skill, different from the examples.",
    ]
    if shown:
        lines.append("Examples from the item bank:\n" + "\n".join(json.dumps(e) for e in shown))
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def _example(item: ItemContent) -> dict[str, Any]:
    prov = item.provenance
    example: dict[str, Any] = {"stem": item.stem, "answer": item.answer, "hints": item.hints}
    for name in ("problem", "steps", "distractors"):
        if name in prov:
            example[name] = prov[name]
    return example


def _difficulty_words(difficulty: float) -> str:
    if difficulty < -1:
        return "easy"
    return "medium" if difficulty <= 1 else "hard"


def _item(request: _Request, draft: Draft, model: str) -> ItemContent:
    steps = [s.strip() for s in draft.steps]
    return ItemContent(
        subject=request.subject,
        topic=request.topic,
        skill=request.skill,
        type=ItemType.EQUATION,
        stem=draft.stem,
        answer=draft.answer.strip(),
        answer_policy=AnswerPolicy.SOLUTION_SET,
        hints=draft.hints[:3],
        solution=_solution(steps, draft.answer.strip()),
        difficulty=max(-6.0, min(6.0, request.difficulty)),
        source=ItemSource.LLM,
        provenance={
            "generator": "llm",
            "model": model,
            "prompt_version": PROMPT_VERSION,
            "kind": "equation",
            "problem": draft.problem.strip(),
            "steps": steps,
            "key": draft.answer.strip(),
            "distractors": [d.model_dump() for d in draft.distractors],
        },
    )


def _solution(steps: Sequence[str], answer: str) -> str:
    def shown(text: str) -> str:
        return re.sub(r"(\d)\s*\*\s*([a-z(])", r"\1\2", text).replace("*", r" \cdot ")

    lines = [f"{i}. ${shown(step)}$" for i, step in enumerate(steps, start=1)]
    return "\n".join(lines) + f"\n\n**Answer:** ${shown(answer)}$"
