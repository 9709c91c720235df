"""A scriptable OpenAI-compatible chat server on a free loopback port, for testing generation.

The generator is tested against real HTTP, through the real SDK, so retries, timeouts,
`Retry-After` and structured-output requests are exercised as they would be against a model
server. Each request gets a behaviour (`Mode`): taken from an explicit queue first, else drawn
from a mix with a seeded RNG (so a "30% wrong, 10% malformed" run is reproducible), else the
default. A correct reply is a genuinely correct linear equation built from the skill named in
the prompt; the faulty ones plant exactly one fault each. Requests and the modes chosen are
recorded for assertions, and every reply reports token usage.

Multiple-choice questions (schema name `choice_question`) are written with the key "A"; a
WRONG one claims "C". Answer-checking requests (self-consistency, schema name `answer_check`)
are answered from the `choice_answers` queue, else with "A", the true answer; a model named
in `answers_by_model` (a second, checking model) always answers with its entry there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.server import free_port


class Mode(StrEnum):
    CORRECT = "correct"
    WRONG = "wrong"  # a wrong claimed answer
    BAD_STEP = "bad_step"  # a worked step that changes the solution
    DISTRACTOR_IS_KEY = "distractor_is_key"
    NOT_UNIQUE = "not_unique"  # x^2 = 9, claimed x = 3
    MALFORMED = "malformed"  # truncated JSON
    SLOW = "slow"  # sleep `slow_s`, then answer correctly
    RATE_LIMITED = "rate_limited"  # 429 with Retry-After
    SERVER_ERROR = "server_error"  # 500
    UNREADABLE_KEY = "unreadable_key"  # a true key in a form the grader cannot read: x = 40e-1


@dataclass(frozen=True, slots=True)
class Recorded:
    body: dict[str, Any]
    mode: Mode | None  # None for answer-checking requests
    at: float  # time.monotonic() on arrival


@dataclass
class FakeLlm:
    """The server's script and record; change the fields between (or during) requests."""

    seed: int = 0
    default: Mode = Mode.CORRECT
    mix: dict[Mode, float] = field(default_factory=dict)  # fractions; the rest is `default`
    slow_s: float = 2.0
    retry_after_s: float = 1.0
    queue: deque[Mode] = field(default_factory=deque)
    choice_answers: deque[str] = field(default_factory=deque)
    answers_by_model: dict[str, str] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    base_url: str = ""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._stopping = asyncio.Event()

    def script(self, *modes: Mode) -> None:
        self.queue.extend(modes)

    def modes(self) -> list[Mode]:
        return [r.mode for r in self.requests if r.mode is not None]

    def _next_mode(self) -> Mode:
        if self.queue:
            return self.queue.popleft()
        draw = self.rng.random()
        for mode, share in self.mix.items():
            if draw < share:
                return mode
            draw -= share
        return self.default

    async def _pause(self, seconds: float) -> None:
        """Sleep, but end early when the server stops, so shutdown never waits on it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        response_format = body.get("response_format") or {}
        if response_format.get("type") not in ("json_schema", "json_object"):
            return _error(400, "response_format must be json_schema or json_object")
        schema_name = response_format.get("json_schema", {}).get("name", "")
        if schema_name == "answer_check" or "Answer the multiple-choice" in _text(body):
            self.requests.append(Recorded(body, None, time.monotonic()))
            choice = self.answers_by_model.get(str(body.get("model")), "")
            if not choice:
                choice = self.choice_answers.popleft() if self.choice_answers else "A"
            return _completion(body, json.dumps({"choice": choice}))
        mode = self._next_mode()
        self.requests.append(Recorded(body, mode, time.monotonic()))
        if schema_name == "choice_question" or "multiple-choice practice" in _text(body):
            return _completion(body, choice_question(_skill(body), mode, self.rng))
        if mode is Mode.RATE_LIMITED:
            headers = {"Retry-After": f"{self.retry_after_s:g}"}
            return _error(429, "rate limit reached", headers)
        if mode is Mode.SERVER_ERROR:
            return _error(500, "the model server failed")
        if mode is Mode.SLOW:
            await self._pause(self.slow_s)
        content = question(_skill(body), mode, self.rng)
        return _completion(body, content)

    async def models(self, _request: Request) -> Response:
        model = {"id": "fake-model", "object": "model", "created": 0, "owned_by": "tests"}
        return JSONResponse({"object": "list", "data": [model]})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
                Route("/v1/models", self.models, methods=["GET"]),
            ]
        )


def question(skill: str, mode: Mode, rng: random.Random) -> str:
    """The JSON reply for one question; correct unless `mode` plants a fault."""
    if mode is Mode.MALFORMED:
        return '{"stem": "Solve for $x$: $3x + 4 = 19$", "problem": "3*x + 4 ='
    if mode is Mode.NOT_UNIQUE:
        return json.dumps(_draft("x**2 = 9", "$x^2 = 9$", "x = 3", ["x = 3"], 5))
    a = 1 if "one_step" in skill else rng.randint(2, 9)
    b = rng.randint(1, 20)
    x = rng.choice([n for n in range(-9, 10) if n not in (0, 1)])
    c = a * x + b
    lhs = f"x + {b}" if a == 1 else f"{a}*x + {b}"
    shown = f"x + {b}" if a == 1 else f"{a}x + {b}"
    steps = [f"{a}*x = {c - b}", f"x = {x}"] if a != 1 else [f"x = {c - b}"]
    answer = f"x = {x}"
    if mode is Mode.WRONG:
        answer = f"x = {x + 1}"
    if mode is Mode.UNREADABLE_KEY:
        answer = f"x = {10 * x}e-1"
    if mode is Mode.BAD_STEP:
        steps = [f"{a}*x = {c + b}", f"x = {x}"]
    wrong = c + b if a == 1 else c - b  # added b / forgot to divide: never the key
    draft = _draft(f"{lhs} = {c}", f"${shown} = {c}$", answer, steps, wrong)
    if mode is Mode.DISTRACTOR_IS_KEY:
        draft["distractors"].append({"value": f"x = {x}", "misconception": "none"})
    return json.dumps(draft)


def choice_question(skill: str, mode: Mode, rng: random.Random) -> str:
    """A multiple-choice question whose true answer is "A"; WRONG claims "C"."""
    if mode is Mode.MALFORMED:
        return '{"stem": "Which part of a cell'
    number = rng.randint(1, 10**6)
    choices = [
        {"id": "A", "text": "The mitochondrion", "misconception": None},
        {"id": "B", "text": "The ribosome", "misconception": "confuses_protein_synthesis"},
        {"id": "C", "text": "The nucleus", "misconception": "confuses_genetic_control"},
        {"id": "D", "text": "The cell wall", "misconception": "confuses_plant_structure"},
    ]
    return json.dumps(
        {
            "stem": f"Which organelle releases energy from glucose? ({skill}, case {number})",
            "choices": choices,
            "answer": "C" if mode is Mode.WRONG else "A",
            "explanation": "Cellular respiration happens in the mitochondria.",
            "hints": ["Think about where cellular respiration happens."],
        }
    )


def _draft(problem: str, shown: str, answer: str, steps: list[str], wrong: int) -> dict[str, Any]:
    return {
        "stem": f"Solve for $x$: {shown}",
        "problem": problem,
        "answer": answer,
        "steps": steps,
        "distractors": [{"value": f"x = {wrong}", "misconception": "added_instead_of_subtracted"}],
        "hints": ["Undo the operations on $x$ in reverse order."],
    }


def _text(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content", "")) for m in body.get("messages", []))


def _skill(body: dict[str, Any]) -> str:
    found = re.search(r"^Skill: (\S+)", _text(body), re.MULTILINE)
    return found.group(1) if found else "linear_equations.two_step"


def _completion(body: dict[str, Any], content: str) -> Response:
    prompt_tokens = max(1, len(_text(body)) // 4)
    completion_tokens = max(1, len(content) // 4)
    return JSONResponse(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    error = {"message": message, "type": "fake_error", "param": None, "code": str(status)}
    return JSONResponse({"error": error}, status_code=status, headers=headers)


@asynccontextmanager
async def running_fake_llm(fake: FakeLlm | None = None) -> AsyncIterator[FakeLlm]:
    """Serve `fake` (a fresh one by default) on uvicorn inside the current event loop."""
    fake = fake or FakeLlm()
    port = free_port()
    config = uvicorn.Config(
        fake.app(), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("fake model server stopped before starting")
                await asyncio.sleep(0.01)
        fake.base_url = f"http://127.0.0.1:{port}/v1"
        yield fake
    finally:
        fake._stopping.set()
        server.should_exit = True
        await task
