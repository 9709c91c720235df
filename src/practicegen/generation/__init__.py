"""Question generation: builders that produce items the bank lacks, each with a verified key.

`protocol` defines what a generator is; `procedural` holds the instant, deterministic sympy-backed
generators; the `llm*` modules write questions with a language model and verify them.
"""
