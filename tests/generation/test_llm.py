"""The language-model generator against a real OpenAI-compatible server on loopback.

Every accepted item must be right by an independent solve, whatever the server says; every
fault the server can plant (wrong answers, broken steps, malformed JSON, 429s, 500s, slowness)
must end as a counted rejection or a retry, never as an accepted item.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
import sympy

from practicegen.generation.llm import PROMPT_VERSION, LlmGenerator
from practicegen.generation.llm_check import verify_equation
from practicegen.generation.llm_verify import Reason, self_consistency
from practicegen.generation.procedural import mathparse as mp
from practicegen.generation.procedural import registry
from practicegen.generation.procedural.profiles import PROFILES
from practicegen.grading.grade import grade_answer
from practicegen.grading.grades import AnswerKey
from practicegen.items.schemas import Choice, ItemContent, ItemSource
from practicegen.ports import AnswerPolicy, ItemType
from tests.support.fake_llm import FakeLlm, Mode, question, running_fake_llm

SKILL = "linear_equations.two_step"
x = sympy.Symbol("x")


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    async with running_fake_llm(FakeLlm(seed=7, retry_after_s=0.05)) as server:
        yield server


def generator(fake: FakeLlm, **knobs: Any) -> LlmGenerator:
    settings: dict[str, Any] = {"timeout_s": 5.0, "concurrency": 8, "max_retry_wait_s": 3.0}
    return LlmGenerator(
        base_url=fake.base_url, api_key="test-key", model="fake-model", **(settings | knobs)
    )


def examples() -> list[ItemContent]:
    return [registry.generate(SKILL, 2, seed) for seed in range(4)]


async def generate(gen: LlmGenerator, count: int, **kwargs: Any) -> Any:
    try:
        return await gen.generate(SKILL, "Linear Equations", "Algebra", 0.0, [], count, **kwargs)
    finally:
        await gen.aclose()


def assert_really_correct(item: ItemContent) -> None:
    """Solve the problem with sympy here, then grade the item's key against that solution."""
    lhs, rhs = mp.sides(str(item.provenance["problem"]))
    solutions = sympy.solve(sympy.Eq(lhs, rhs), x)
    assert len(solutions) == 1
    key = AnswerKey(ItemType.EQUATION, item.answer, AnswerPolicy.SOLUTION_SET)
    assert grade_answer(f"x = {solutions[0]}", key).correct, item.provenance


async def test_correct_replies_are_accepted_with_provenance_usage_and_progress(
    fake: FakeLlm,
) -> None:
    messages: list[tuple[int, int, str]] = []

    async def progress(k: int, n: int, message: str) -> None:
        messages.append((k, n, message))

    gen = generator(fake)
    shown = examples()
    try:
        batch = await gen.generate(
            SKILL, "Linear Equations", "Algebra", 0.5, shown, 3, progress=progress
        )
    finally:
        await gen.aclose()

    assert len(batch.items) == 3 and not batch.rejections
    for item in batch.items:
        assert_really_correct(item)
        assert item.source is ItemSource.LLM and item.type is ItemType.EQUATION
        prov = item.provenance
        assert prov["generator"] == "llm" and prov["model"] == "fake-model"
        assert prov["prompt_version"] == PROMPT_VERSION and prov["key"] == item.answer
        assert prov["steps"] and prov["distractors"] and prov["verification"]["ok"] is True
    assert batch.usage.prompt_tokens > 0 and batch.usage.completion_tokens > 0
    assert batch.usage.total_tokens == batch.usage.prompt_tokens + batch.usage.completion_tokens
    assert [m for _, _, m in messages] == [f"Generating AI question {k} of 3..." for k in (1, 2, 3)]
    body = fake.requests[0].body
    assert body["response_format"]["json_schema"]["name"] == "practice_question"
    prompt = body["messages"][-1]["content"]
    assert f"Skill: {SKILL}" in prompt
    assert f"The skill's problems: {PROFILES[SKILL].describe()}." in prompt
    assert sum(str(e.provenance["problem"]) in prompt for e in shown) == 3  # at most 3 examples


async def test_requests_past_the_sdks_default_connection_limit_are_all_in_flight_at_once(
    fake: FakeLlm,
) -> None:
    """The SDK's client holds at most 1,000 connections unless told; the generator lets as
    many through as its concurrency, so 1,100 slow requests all arrive before the first answer."""
    # a model slow enough that a loaded machine still sends all 1,100 before the first answer
    fake.default, fake.slow_s = Mode.SLOW, 4.0
    gen = generator(fake, concurrency=1100, attempts_per_question=1, timeout_s=30.0)
    batch = await generate(gen, 1100)
    arrivals = sorted(r.at for r in fake.requests)
    assert len(arrivals) == 1100 and arrivals[-1] - arrivals[0] < fake.slow_s
    assert len(batch.items) + sum(batch.rejections.values()) == 1100


async def test_a_faulty_mix_yields_only_correct_items_and_counts_rejections(
    fake: FakeLlm,
) -> None:
    fake.mix = {Mode.WRONG: 0.3, Mode.MALFORMED: 0.1, Mode.RATE_LIMITED: 0.1}
    batch = await generate(generator(fake, attempts_per_question=6, rate_limit_retries=5), 12)

    modes = fake.modes()
    assert modes.count(Mode.WRONG) >= 2 and modes.count(Mode.MALFORMED) >= 1  # the mix ran
    assert modes.count(Mode.RATE_LIMITED) >= 1
    for item in batch.items:
        assert_really_correct(item)
    assert batch.rejections[Reason.WRONG_ANSWER] == modes.count(Mode.WRONG)
    assert batch.rejections[Reason.MALFORMED] == modes.count(Mode.MALFORMED)
    assert Reason.RATE_LIMITED not in batch.rejections  # retried, never exhausted here
    answered = len(modes) - modes.count(Mode.RATE_LIMITED)
    assert len(batch.items) + sum(batch.rejections.values()) == answered
    assert len(batch.items) >= 10


async def test_each_planted_fault_has_its_reason(fake: FakeLlm) -> None:
    fake.script(
        Mode.BAD_STEP, Mode.DISTRACTOR_IS_KEY, Mode.NOT_UNIQUE, Mode.SERVER_ERROR, Mode.CORRECT
    )
    batch = await generate(generator(fake, attempts_per_question=5), 1)

    assert len(batch.items) == 1
    assert_really_correct(batch.items[0])
    assert dict(batch.rejections) == {
        Reason.STEP_BREAKS_SOLUTION_SET: 1,
        Reason.DISTRACTOR_EQUALS_KEY: 1,
        Reason.NOT_UNIQUE: 1,
        Reason.SERVER_ERROR: 1,
    }


async def test_a_question_is_rewritten_only_up_to_the_limit(fake: FakeLlm) -> None:
    fake.default = Mode.WRONG
    batch = await generate(generator(fake, attempts_per_question=3), 2)

    assert batch.items == [] and batch.requested == 2
    assert dict(batch.rejections) == {Reason.WRONG_ANSWER: 6}
    assert len(fake.requests) == 6


async def test_retry_after_is_honoured_and_capped(fake: FakeLlm) -> None:
    fake.retry_after_s = 1.0
    fake.script(Mode.RATE_LIMITED)
    started = time.monotonic()
    batch = await generate(generator(fake), 1)
    assert time.monotonic() - started >= 1.0
    assert len(batch.items) == 1 and not batch.rejections
    assert fake.requests[1].at - fake.requests[0].at >= 0.95

    fake.retry_after_s = 30.0  # far past the cap: the wait is the cap, 0.2 s
    fake.script(Mode.RATE_LIMITED)
    started = time.monotonic()
    batch = await generate(generator(fake, max_retry_wait_s=0.2), 1)
    assert 0.2 <= time.monotonic() - started < 3.0
    assert len(batch.items) == 1


async def test_rate_limits_past_the_retry_limit_are_rejections(fake: FakeLlm) -> None:
    fake.default = Mode.RATE_LIMITED
    batch = await generate(generator(fake, rate_limit_retries=2, attempts_per_question=1), 1)

    assert batch.items == [] and dict(batch.rejections) == {Reason.RATE_LIMITED: 1}
    assert len(fake.requests) == 3


async def test_slow_replies_past_the_timeout_are_model_timeout_rejections(fake: FakeLlm) -> None:
    fake.default, fake.slow_s = Mode.SLOW, 5.0
    started = time.monotonic()
    batch = await generate(generator(fake, timeout_s=0.3, attempts_per_question=2), 1)

    assert batch.items == [] and dict(batch.rejections) == {Reason.MODEL_TIMEOUT: 2}
    assert time.monotonic() - started < 3.0


async def test_a_server_that_hangs_up_without_answering_is_a_server_error() -> None:
    """Not a timeout, as the SDK's aiohttp transport calls it (a connect timeout)."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async with await asyncio.start_server(hang_up, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        gen = LlmGenerator(
            base_url=f"http://127.0.0.1:{port}/v1",
            api_key="test-key",
            model="fake-model",
            timeout_s=5.0,
            attempts_per_question=2,
        )
        started = time.monotonic()
        batch = await generate(gen, 1)

    assert batch.items == [] and dict(batch.rejections) == {Reason.SERVER_ERROR: 2}
    assert time.monotonic() - started < 4.0


async def test_a_connection_closed_unanswered_is_tried_again_without_spending_a_draft() -> None:
    """After a burst the pool holds many kept-alive connections the server closes when idle;
    a request sent on one as it closes is sent again, on another, before it counts."""
    requests = 0

    async def close_twice_then_answer(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal requests
        head = await reader.readuntil(b"\r\n\r\n")
        requests += 1
        if requests <= 2:
            writer.close()
            return
        length = int(re.search(rb"content-length: *(\d+)", head, re.I)[1])  # type: ignore[index]
        await reader.readexactly(length)
        content = question(SKILL, Mode.CORRECT, random.Random(3))
        message = {"role": "assistant", "content": content}
        body = json.dumps(
            {
                "id": "c1",
                "object": "chat.completion",
                "created": 0,
                "model": "fake-model",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            }
        ).encode()
        fields = f"content-type: application/json\r\ncontent-length: {len(body)}"
        writer.write(f"HTTP/1.1 200 OK\r\n{fields}\r\n\r\n".encode() + body)
        await writer.drain()
        writer.close()

    async with await asyncio.start_server(close_twice_then_answer, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        gen = LlmGenerator(
            base_url=f"http://127.0.0.1:{port}/v1",
            api_key="test-key",
            model="fake-model",
            timeout_s=5.0,
            attempts_per_question=1,
        )
        batch = await generate(gen, 1)

    assert len(batch.items) == 1 and not batch.rejections
    assert requests == 3


async def test_questions_are_written_concurrently(fake: FakeLlm) -> None:
    fake.default, fake.slow_s = Mode.SLOW, 2.0
    started = time.monotonic()
    batch = await generate(generator(fake, concurrency=5, timeout_s=10.0), 5)
    elapsed = time.monotonic() - started

    assert len(batch.items) == 5
    # A sanity bound, not a benchmark: one after another would take 10 s, together about 2 s.
    assert elapsed < 6.0


async def test_the_concurrency_limit_holds_across_batches(fake: FakeLlm) -> None:
    fake.default, fake.slow_s = Mode.SLOW, 0.5
    gen = generator(fake, concurrency=2)
    try:
        started = time.monotonic()
        first = gen.generate(SKILL, "Linear Equations", "Algebra", 0.0, [], 2)
        second = gen.generate(SKILL, "Linear Equations", "Algebra", 0.0, [], 2)
        batches = [await first, await second]
        elapsed = time.monotonic() - started
    finally:
        await gen.aclose()
    assert sum(len(b.items) for b in batches) == 4
    assert elapsed >= 0.95  # 4 slow requests, 2 at a time: at least two rounds


async def test_json_object_mode_and_model_listing(fake: FakeLlm) -> None:
    batch = await generate(generator(fake, response_format="json_object"), 1)
    assert len(batch.items) == 1
    assert fake.requests[0].body["response_format"] == {"type": "json_object"}

    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key="test-key", max_retries=0)
    try:
        models = await client.models.list()
    finally:
        await client.close()
    assert [m.id for m in models.data] == ["fake-model"]


def test_model_text_is_never_evaluated() -> None:
    verdict = verify_equation("__import__('os').system('true') = 1", "x = 1", [], [])
    assert verdict.reason is Reason.MALFORMED
    verdict = verify_equation("x**9**9**9 = 1", "x = 1", [], [])
    assert verdict.reason is Reason.MALFORMED


def multiple_choice() -> ItemContent:
    return ItemContent(
        subject="Biology",
        topic="Cells",
        skill="cells.organelles",
        type=ItemType.MULTIPLE_CHOICE,
        stem="Which organelle makes most of a cell's ATP?",
        answer="B",
        answer_policy=AnswerPolicy.CHOICE,
        choices=[
            Choice(id="A", text="Ribosome", misconception="protein_synthesis"),
            Choice(id="B", text="Mitochondrion"),
            Choice(id="C", text="Nucleus", misconception="control_centre"),
        ],
        source=ItemSource.LLM,
    )


async def test_self_consistency_accepts_a_consistent_item_and_rejects_another(
    fake: FakeLlm,
) -> None:
    gen = generator(fake)
    try:
        fake.choice_answers.extend(["B", "(b)", "C"])
        consistent = await self_consistency(gen.complete_json, multiple_choice(), samples=3)
        fake.choice_answers.extend(["A", "B", "C"])
        inconsistent = await self_consistency(gen.complete_json, multiple_choice(), samples=3)
    finally:
        await gen.aclose()

    assert consistent.accepted and consistent.votes["b"] == 2
    assert not inconsistent.accepted and inconsistent.votes["b"] == 1
    answer_checks = [r for r in fake.requests if r.mode is None]
    assert len(answer_checks) == 6
    assert answer_checks[0].body["response_format"]["json_schema"]["name"] == "answer_check"
    assert "Mitochondrion" in answer_checks[0].body["messages"][-1]["content"]
