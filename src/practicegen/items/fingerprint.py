"""A canonical fingerprint per item, so near-duplicate variants are recognised as one question.

Two items share a fingerprint when they pose the same problem: the same machine-readable
problem (generated items carry it in their provenance, e.g. `2*x + 3 = 11`, normalised by
spacing) or, for items written by people, the same stem once case, spacing, punctuation and
Markdown/LaTeX decoration are ignored. The skill is part of it, so the same wording under two
skills is not a duplicate.
"""

from __future__ import annotations

import hashlib
import re

from practicegen.items.schemas import ItemContent

_DECORATION = re.compile(r"[\s$*_`\\{}.,;:!?()\[\]]+")


def normalise_text(text: str) -> str:
    return _DECORATION.sub(" ", text.lower()).strip()


def fingerprint(item: ItemContent) -> str:
    problem = item.provenance.get("problem")
    basis = (
        "problem:" + re.sub(r"\s+", "", str(problem))
        if isinstance(problem, str) and problem.strip()
        else "stem:" + normalise_text(item.stem)
    )
    digest = hashlib.sha256(f"{item.skill}|{basis}".encode()).hexdigest()
    return digest[:32]
