"""The node's gap fillers as its settings describe them: the instant procedural generators for
the sync path, and a job's (`create_job_filler`). The model's client (the OpenAI SDK) loads
only when a model is configured.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from practicegen.clock import Clock, utcnow
from practicegen.generation.filler import ProceduralFiller

if TYPE_CHECKING:
    from pydantic import SecretStr

    from practicegen.config import Settings
    from practicegen.db.engine import SessionMaker
    from practicegen.generation.llm import LlmGenerator
    from practicegen.generation.llm_filler import LlmFiller
    from practicegen.ports import GapFiller


def create_filler(settings: Settings) -> ProceduralFiller:
    return ProceduralFiller(
        workers=settings.generator_workers, timeout_s=settings.generator_timeout_s
    )


def create_job_filler(
    settings: Settings,
    sessionmaker: SessionMaker,
    procedural: ProceduralFiller,
    clock: Clock = utcnow,
) -> ProceduralFiller | LlmFiller:
    """What fills a job's gap: the configured language model (procedural items standing in for
    what it fails to write; a second model, when one is configured, checks its multiple-choice
    keys), else the procedural generators alone."""
    if settings.llm_base_url is None:
        return procedural
    from practicegen.generation.llm_filler import LlmBudget, LlmFiller

    choice_check = None
    if settings.llm_check_model is not None:
        choice_check = create_generator(
            settings,
            procedural,
            base_url=settings.llm_check_base_url or settings.llm_base_url,
            api_key=settings.llm_check_api_key or settings.llm_api_key,
            model=settings.llm_check_model,
        )
    generator = create_generator(
        settings,
        procedural,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key,
        model=settings.llm_model,
        choice_check=choice_check,
    )
    return LlmFiller(
        generator=generator,
        procedural=procedural,
        sessionmaker=sessionmaker,
        budget=LlmBudget(settings.llm_daily_token_budget, settings.llm_tokens_per_question),
        clock=clock,
    )


def create_generator(
    settings: Settings,
    procedural: ProceduralFiller,
    *,
    base_url: str,
    api_key: SecretStr,
    model: str,
    choice_check: LlmGenerator | None = None,
) -> LlmGenerator:
    """A model client with the node's model settings: the writing model's, or (its server, key
    and name overridden) the check model's, which share every other bound."""
    from practicegen.generation.llm import LlmGenerator

    return LlmGenerator(
        base_url=base_url,
        api_key=api_key.get_secret_value(),
        model=model,
        timeout_s=settings.llm_timeout_s,
        verify_timeout_s=settings.llm_check_timeout_s,
        check_queue_s=settings.llm_check_queue_s,
        concurrency=settings.llm_concurrency,
        attempts_per_question=settings.llm_attempts_per_question,
        response_format=settings.llm_response_format,
        self_consistency_samples=settings.llm_self_consistency_samples,
        sympy_pool=procedural.pool,
        choice_check=choice_check,
    )


def fillers(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    sessionmaker: SessionMaker,
    clock: Clock = utcnow,
) -> tuple[ProceduralFiller, GapFiller]:
    """The sync path's filler (instant generators only) and a job's, closed with `stack`."""
    filler = create_filler(settings)
    stack.push_async_callback(filler.aclose)
    job_filler = create_job_filler(settings, sessionmaker, filler, clock)
    if job_filler is not filler:
        stack.push_async_callback(job_filler.aclose)
    return filler, job_filler
