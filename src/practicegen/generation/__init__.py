"""Question generation: builders that produce items the bank lacks, each with a verified key.

`protocol` defines what a generator is; `procedural` holds the instant, deterministic sympy-backed
generators and the independent check of what they build; `demo_bank` builds the bank that ships
with the package from those generators.
"""

from practicegen.generation.protocol import ItemGenerator, LevelOutOfRange, SkillSpec, UnknownSkill

__all__ = ["ItemGenerator", "LevelOutOfRange", "SkillSpec", "UnknownSkill"]
