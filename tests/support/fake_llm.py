"""A scriptable OpenAI-compatible chat server on a free loopback port, for testing generation.

The generator is tested against real HTTP, through the real SDK, so retries, timeouts,
`Retry-After` and structured-output requests are exercised as they would be against a model
server. Each request gets a behaviour (`Mode`): taken from an explicit queue first, else drawn
from a mix with a seeded RNG (so a "30% wrong, 10% malformed" run is reproducible), else the
default. A correct reply is a genuinely correct linear equation shaped as the skill named in
the prompt asks (`Linear`); each attack (`ATTACKS`, one line each) plants exactly one fault in
it: a wrong key or step, a stem that is not the problem (sign, number, variable, operation, a
word problem's number), a question of another skill, a problem sympy cannot check in time.
Requests and the modes chosen are recorded for assertions, and every reply reports token usage.

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
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from practicegen.generation.procedural import render
from tests.support.server import free_port


class Mode(StrEnum):
    CORRECT = "correct"
    WORDS = "words"  # correct, as a word problem
    BARE = "bare"  # correct, its math bare in the text (no $...$)
    MALFORMED = "malformed"  # truncated JSON
    SLOW = "slow"  # sleep `slow_s`, then answer correctly
    RATE_LIMITED = "rate_limited"  # 429 with Retry-After
    SERVER_ERROR = "server_error"  # 500
    # Attacks: a draft with one planted fault each, made by `ATTACKS` below.
    WRONG = "wrong"  # a wrong claimed answer
    BAD_STEP = "bad_step"  # a worked step that changes the solution
    DISTRACTOR_IS_KEY = "distractor_is_key"
    NOT_UNIQUE = "not_unique"  # x^2 = 9, claimed x = 3
    STEM_SIGN = "stem_sign"  # the stem shows - b where the problem has + b
    STEM_NUMBER = "stem_number"  # the stem's right-hand side is one more
    STEM_VARIABLE = "stem_variable"  # the stem asks for y
    STEM_OPERATION = "stem_operation"  # the stem divides where the problem multiplies
    STEM_BARE_SIGN = "stem_bare_sign"  # STEM_SIGN with the math bare in the text
    WORDS_NUMBER = "words_number"  # a word problem naming a number the problem lacks
    OFF_SKILL = "off_skill"  # a correct quadratic, whatever the skill
    HEAVY_CHECK = "heavy_check"  # a degree-99 problem: sympy works on it for minutes
    UNREADABLE_KEY = "unreadable_key"  # a true key in a form the grader cannot read: x = 40e-1


HONEST = (Mode.CORRECT, Mode.WORDS, Mode.BARE)
"""Modes whose reply is a correct question the service should accept."""
_TRUE_STEMS = (
    *HONEST,
    Mode.SLOW,
    Mode.WRONG,
    Mode.BAD_STEP,
    Mode.DISTRACTOR_IS_KEY,
    Mode.OFF_SKILL,
)
"""Modes whose stem is honest (whatever else is wrong): its solution is known."""


@dataclass(frozen=True, slots=True)
class Recorded:
    body: dict[str, Any]
    mode: Mode | None  # None for answer-checking requests
    at: float  # time.monotonic() on arrival
    headers: dict[str, str] = field(default_factory=dict)


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
    tokens_by_model: Counter[str] = field(default_factory=Counter)  # as each reply reported
    usage_by_model: dict[str, dict[str, int]] = field(default_factory=dict)  # reported instead
    truths: dict[str, str] = field(default_factory=dict)  # honest stem -> its solution
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
            self.requests.append(Recorded(body, None, time.monotonic(), dict(request.headers)))
            choice = self.answers_by_model.get(str(body.get("model")), "")
            if not choice:
                choice = self.choice_answers.popleft() if self.choice_answers else "A"
            return self._reply(body, json.dumps({"choice": choice}))
        mode = self._next_mode()
        self.requests.append(Recorded(body, mode, time.monotonic(), dict(request.headers)))
        if schema_name == "choice_question" or "multiple-choice practice" in _text(body):
            return self._reply(body, choice_question(_skill(body), mode, self.rng))
        if mode is Mode.RATE_LIMITED:
            headers = {"Retry-After": f"{self.retry_after_s:g}"}
            return _error(429, "rate limit reached", headers)
        if mode is Mode.SERVER_ERROR:
            return _error(500, "the model server failed")
        if mode is Mode.SLOW:
            await self._pause(self.slow_s)
        content = question(_skill(body), mode, self.rng, self.truths)
        return self._reply(body, content)

    def _reply(self, body: dict[str, Any], content: str) -> Response:
        usage = self.usage_by_model.get(str(body.get("model"))) or _usage(body, content)
        self.tokens_by_model[str(body.get("model"))] += usage["total_tokens"]
        return _completion(body, content, usage)

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


@dataclass(frozen=True, slots=True)
class Linear:
    """An honest linear question in one of three shapes: a*x + b = c ("sum"), a*(x + b) = c
    ("group") or x/a + b = c ("fraction"), each written as the skill in the prompt asks."""

    shape: str
    a: int
    b: int
    x: int

    @property
    def c(self) -> int:
        a, b, x = self.a, self.b, self.x
        return {"sum": a * x + b, "group": a * (x + b), "fraction": x // a + b}[self.shape]

    def problem(self) -> str:
        a, b = self.a, self.b
        times = "" if a == 1 else f"{a}*"
        left = {"sum": f"{times}x + {b}", "group": f"{a}*(x + {b})", "fraction": f"x/{a} + {b}"}
        return f"{left[self.shape]} = {self.c}"

    def latex(self, var: str = "x", sign: str = "+", c: int | None = None, op: bool = False) -> str:
        """The equation in LaTeX; `sign`, `c`, `var` and `op` (another operation) plant faults."""
        a, b = self.a, self.b
        times = "" if a == 1 else str(a)
        left = {
            "sum": _divided(var, a, sign, b) if op else f"{times}{var} {sign} {b}",
            "group": f"{a}{var} {sign} {b}" if op else f"{a}({var} {sign} {b})",
            "fraction": f"{a}{var} {sign} {b}" if op else f"\\frac{{{var}}}{{{a}}} {sign} {b}",
        }[self.shape]
        return f"{left} = {self.c if c is None else c}"

    def words(self, b: int | None = None) -> str:
        shown = self.b if b is None else b
        step = f"multiplied by {self.a}, then {shown} is added" if self.a != 1 else ""
        step = {
            "sum": step or f"increased by {shown}",
            "group": f"increased by {shown}, then multiplied by {self.a}",
            "fraction": f"divided by {self.a}, then {shown} is added",
        }[self.shape]
        return f"A number $x$ is {step}. The result is {self.c}. What is $x$?"


def _divided(var: str, a: int, sign: str, b: int) -> str:
    """x/a + b in LaTeX; for a = 1, where dividing changes nothing, x times b."""
    return f"{var} \\cdot {b}" if a == 1 else f"\\frac{{{var}}}{{{a}}} {sign} {b}"


def _linear(skill: str, rng: random.Random) -> Linear:
    shape = "group" if "distribution" in skill else "fraction" if "fraction" in skill else "sum"
    a = 1 if "one_step" in skill else rng.randint(2, 9)
    x = rng.choice([n for n in range(-9, 10) if n not in (0, 1)])
    return Linear(shape, a, rng.randint(1, 20), x * a if shape == "fraction" else x)


def _honest(q: Linear) -> dict[str, Any]:
    steps = {
        "sum": [f"{q.a}*x = {q.c - q.b}", f"x = {q.x}"],
        "group": [f"x + {q.b} = {q.c // q.a}", f"x = {q.x}"],
        "fraction": [f"x/{q.a} = {q.c - q.b}", f"x = {q.x}"],
    }[q.shape]
    wrong = q.x + 2 * q.b  # added b where it should be subtracted: never the key (b > 0)
    return _draft(q.problem(), f"${q.latex()}$", f"x = {q.x}", steps, wrong)


def _off_skill(q: Linear) -> dict[str, Any]:
    """A correct question of another skill: (x - r)^2 = 0, expanded."""
    latex, plain = render.poly([(1, "x**2"), (-2 * q.x, "x"), (q.x * q.x, "")])
    return _draft(f"{plain} = 0", f"${latex} = 0$", f"x = {q.x}", [f"x = {q.x}"], -q.x)


def _stem(draft: dict[str, Any], stem: str) -> dict[str, Any]:
    return {**draft, "stem": stem}


Attack = Callable[[Linear, dict[str, Any]], dict[str, Any]]

# Every variation of the honest draft in one table (its honest forms, then the attacks, each
# planting one fault): a new attack is a `Mode` and one line here.
ATTACKS: dict[Mode, Attack] = {
    Mode.WORDS: lambda q, d: _stem(d, q.words()),
    Mode.BARE: lambda q, d: _stem(d, f"Solve {_bare(q.latex())} for x."),
    Mode.WRONG: lambda q, d: {**d, "answer": f"x = {q.x + 1}"},
    Mode.BAD_STEP: lambda q, d: {**d, "steps": [f"x = {q.x + 1}", f"x = {q.x}"]},
    Mode.DISTRACTOR_IS_KEY: lambda q, d: {
        **d,
        "distractors": [*d["distractors"], {"value": f"x = {q.x}", "misconception": "none"}],
    },
    Mode.NOT_UNIQUE: lambda q, d: _draft("x**2 = 9", "$x^2 = 9$", "x = 3", ["x = 3"], 5),
    Mode.STEM_SIGN: lambda q, d: _stem(d, f"Solve for $x$: ${q.latex(sign='-')}$"),
    Mode.STEM_NUMBER: lambda q, d: _stem(d, f"Solve for $x$: ${q.latex(c=q.c + 1)}$"),
    Mode.STEM_VARIABLE: lambda q, d: _stem(d, f"Solve for $y$: ${q.latex(var='y')}$"),
    Mode.STEM_OPERATION: lambda q, d: _stem(d, f"Solve for $x$: ${q.latex(op=True)}$"),
    Mode.STEM_BARE_SIGN: lambda q, d: _stem(d, f"Solve {_bare(q.latex(sign='-'))} for x."),
    Mode.WORDS_NUMBER: lambda q, d: _stem(d, q.words(b=max(q.a, q.b, abs(q.c)) + 1)),
    Mode.OFF_SKILL: lambda q, d: _off_skill(q),
    Mode.HEAVY_CHECK: lambda q, d: {**d, "problem": "x**99 + 3*x**50 + x = 5"},
    Mode.UNREADABLE_KEY: lambda q, d: {**d, "answer": f"x = {10 * q.x}e-1"},
}


def question(
    skill: str, mode: Mode, rng: random.Random, truths: dict[str, str] | None = None
) -> str:
    """The JSON reply for one question of `skill`: correct unless `mode` plants a fault.
    `truths` learns the solution of every stem written honestly ("x = 4")."""
    if mode is Mode.MALFORMED:
        return '{"stem": "Solve for $x$: $3x + 4 = 19$", "problem": "3*x + 4 ='
    q = _linear(skill, rng)
    draft = _honest(q)
    attack = ATTACKS.get(mode)
    if attack is not None:
        draft = attack(q, draft)
    if truths is not None and mode in _TRUE_STEMS:
        truths[draft["stem"]] = f"x = {q.x}"
    return json.dumps(draft)


def _bare(latex: str) -> str:
    """An equation as plain text: 3x + 4 = 19, x/2 + 1 = 5."""
    return re.sub(r"\\frac\{(\w)\}\{(\d+)\}", r"\1/\2", latex)


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


def _usage(body: dict[str, Any], content: str) -> dict[str, int]:
    prompt_tokens = max(1, len(_text(body)) // 4)
    completion_tokens = max(1, len(content) // 4)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _completion(body: dict[str, Any], content: str, usage: dict[str, int]) -> Response:
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
            "usage": usage,
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
