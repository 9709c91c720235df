"""A canonical fingerprint per item, so near-duplicate variants are recognised as one question:
of one skill, with the same problem in their provenance (spacing ignored) or else the same stem
once case, spacing, punctuation and Markdown/LaTeX decoration are ignored.
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
    return hashlib.sha256(f"{item.skill}|{basis}".encode()).hexdigest()[:32]
