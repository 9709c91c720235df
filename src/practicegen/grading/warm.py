"""sympy's first comparison and first solve set up what later ones reuse. The fork server imports
this module among its preloads (see `SympyPool` and `Grader`), so it pays for that once and every
grading and pool process it forks starts warm, instead of each paying at its start. Then it hides
what it has loaded from the collector, so that a forked process's collections neither walk nor
copy the pages it shares with the server. Importing it does the work: import it nowhere else."""

from __future__ import annotations

import contextlib
import gc

import sympy

from practicegen.grading.grade import grade_answer
from practicegen.grading.grades import AnswerKey
from practicegen.ports import AnswerPolicy, ItemType


def warm_up() -> None:
    grade_answer("(x-1)(x+1)", AnswerKey(ItemType.EXPRESSION, "x^2-1", AnswerPolicy.EQUIVALENT))
    x = sympy.Symbol("x")
    sympy.Poly(sympy.together(2 * x + sympy.Rational(1, 2)), x).all_coeffs()


# the fork server dies on an import's error other than ImportError; a cold process only costs
# its first call the set-up
with contextlib.suppress(Exception):
    warm_up()
gc.freeze()
