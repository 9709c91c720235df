"""The node's model clients come from its settings by one factory: the check model differs from
the writer only in its server, key and name."""

from __future__ import annotations

from pathlib import Path

from practicegen.config import Settings
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.generation.llm_filler import LlmFiller
from practicegen.generation.llm_kind import ChoiceKind, EquationKind
from practicegen.generation.setup import create_filler, create_job_filler


async def test_the_check_model_shares_every_bound_but_its_server_key_and_name(
    tmp_path: Path,
) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'practicegen.db'}",
        llm_base_url="http://writer.invalid/v1",
        llm_model="writer",
        llm_check_model="checker",
        llm_check_base_url="http://checker.invalid/v1",
        llm_attempts_per_question=2,
        llm_self_consistency_samples=7,
        llm_check_timeout_s=3.0,
        llm_check_queue_s=4.0,
        llm_response_format="json_object",
    )
    engine = create_engine(settings)
    procedural = create_filler(settings)
    try:
        filler = create_job_filler(settings, create_sessionmaker(engine), procedural)
        assert isinstance(filler, LlmFiller)
        writer = filler.generator
        checker = writer.choice_check
        assert checker is not None
        assert (writer.model, checker.model) == ("writer", "checker")
        for generator in (writer, checker):
            assert generator.attempts_per_question == 2
            assert generator.response_format == "json_object"
            equation, choice = generator.kinds["equation"], generator.kinds["multiple_choice"]
            assert isinstance(equation, EquationKind) and isinstance(choice, ChoiceKind)
            assert (equation.verify_timeout_s, equation.check_queue_s) == (3.0, 4.0)
            assert choice.samples == 7
        await filler.aclose()
    finally:
        await procedural.aclose()
        await engine.dispose()
