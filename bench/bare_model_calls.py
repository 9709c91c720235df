"""The bare baseline of the model-bound benchmark: its model calls and sympy checks, no service.

One asyncio script sends `calls` chat requests at once to the model server (the request body a
job sends: the equation prompt with its JSON schema), reads each reply into an item and checks
it in a pool of sympy processes as large as a worker's default, with the verifier a job uses.
What the service adds on top of this (creating, claiming, planning, storing and reporting jobs)
is the difference from the figures of `bench_llm_jobs.py`.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import aiohttp

from practicegen.config import Settings
from practicegen.generation.llm_kind import EquationKind, prompt_messages
from practicegen.generation.llm_verify import Verdict, verify_within
from practicegen.grading.sympy_pool import SympyPool

SKILL = "linear_equations.two_step"


@dataclass(frozen=True, slots=True)
class BareRun:
    seconds: float
    accepted: int
    calls: int


def _request_body(kind: EquationKind) -> dict[str, object]:
    messages = prompt_messages(kind, SKILL, "Linear Equations", "Algebra", 0.0, [])
    schema = {"name": kind.schema_name, "strict": True, "schema": kind.schema}
    return {
        "model": "fake-model",
        "messages": messages,
        "temperature": 0.7,
        "response_format": {"type": "json_schema", "json_schema": schema},
    }


async def bare_calls(base_url: str, calls: int) -> BareRun:
    """Make `calls` model calls at once and check every reply; the wall time of it all."""
    workers: int = Settings.model_fields["generator_workers"].default
    kind = EquationKind(verify_timeout_s=5.0, pool=SympyPool(workers=1))  # for its prompt only
    body = _request_body(kind)
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(workers) as pool:
        # the processes are up before the clock starts, as a worker's are before it takes jobs
        await asyncio.gather(*(loop.run_in_executor(pool, time.sleep, 0.1) for _ in range(workers)))
        connector = aiohttp.TCPConnector(limit=calls)
        timeout = aiohttp.ClientTimeout(total=600)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:

            async def one() -> Verdict:
                async with client.post(f"{base_url}/chat/completions", json=body) as response:
                    response.raise_for_status()
                    reply = await response.json()
                draft = reply["choices"][0]["message"]["content"]
                item = kind.item(
                    json.loads(draft),
                    subject="Algebra",
                    topic="Linear Equations",
                    skill=SKILL,
                    difficulty=0.0,
                )
                return await loop.run_in_executor(pool, verify_within, item, 5.0)

            started = time.perf_counter()
            verdicts = await asyncio.gather(*(one() for _ in range(calls)))
            seconds = time.perf_counter() - started
    return BareRun(seconds, sum(v.ok for v in verdicts), calls)
