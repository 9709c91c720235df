"""The grading lane: a node's bounded, fair queue in front of its grading processes, so one
student's token cannot stall everyone's answers. An answer takes a *place* before it is read or
graded, refused at once with `Retry-After`, never after a wait:

    a student already holding `student_share` places   429 too_many_requests
    a tenant already holding `tenant_share` places     429 too_many_requests
    the node holding `slots` places                    503 service_busy

Waiting places take turns round-robin across tenants, then a tenant's students.
"""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import partial

import structlog

from practicegen.errors import ServiceBusy, TooManyRequests
from practicegen.grading.grader import Grader
from practicegen.grading.grades import AnswerKey, Grade

log = structlog.get_logger()

_MAX_RETRY_AFTER_S = 60
_Waiters = dict[uuid.UUID, dict[uuid.UUID, deque[asyncio.Future[None]]]]


# One answer's place in the lane until graded: it grades the answer once it is its turn.
Place = Callable[[str, AnswerKey], Awaitable[Grade]]


class GradingLane:
    def __init__(
        self, grader: Grader, *, slots: int, tenant_share: int, student_share: int
    ) -> None:
        if not 1 <= student_share <= tenant_share <= slots:
            raise ValueError("grading shares must nest: 1 <= student <= tenant <= slots")
        self._grader = grader
        self._slots = slots
        self._tenant_share = tenant_share
        self._student_share = student_share
        self._jitter = random.Random()
        self._places = 0
        self._by_tenant: dict[uuid.UUID, int] = {}
        self._by_student: dict[uuid.UUID, int] = {}
        self._grading = 0  # places holding a grading process
        self._waiting: _Waiters = {}  # tenant -> student -> turns, each in round-robin order

    @contextmanager
    def place(self, tenant_id: uuid.UUID, student_id: uuid.UUID) -> Iterator[Place]:
        """A place for one answer of `student_id`, or the refusal, at once."""
        self._admit(tenant_id, student_id)
        try:
            yield partial(self.grade, tenant_id, student_id)
        finally:
            self._leave(tenant_id, student_id)

    @property
    def places(self) -> int:
        return self._places

    def _admit(self, tenant_id: uuid.UUID, student_id: uuid.UUID) -> None:
        error: TooManyRequests | ServiceBusy | None = None
        if self._by_student.get(student_id, 0) >= self._student_share:
            error = TooManyRequests(
                "This student already has answers waiting to be graded; retry shortly.",
                share="student",
                limit=self._student_share,
            )
        elif self._by_tenant.get(tenant_id, 0) >= self._tenant_share:
            error = TooManyRequests(
                "This tenant already has many answers waiting to be graded; retry shortly.",
                share="tenant",
                limit=self._tenant_share,
            )
        elif self._places >= self._slots:
            error = ServiceBusy("Every grading place of this node is taken; retry shortly.")
        if error is not None:
            log.info("grading.refused", code=error.code, **error.details)
            error.retry_after_s = self._retry_after(error)
            raise error
        self._places += 1
        self._by_tenant[tenant_id] = self._by_tenant.get(tenant_id, 0) + 1
        self._by_student[student_id] = self._by_student.get(student_id, 0) + 1

    def _retry_after(self, error: TooManyRequests | ServiceBusy) -> int:
        """Seconds until a place is likely free, the share's answers at the deadline each, plus
        up to as much again at random, so that callers refused together come back apart."""
        held = int(error.details.get("limit", self._slots))
        estimate = max(1, math.ceil(self._grader.timeout_s * held / self._grader.workers))
        return min(estimate + self._jitter.randint(0, estimate), _MAX_RETRY_AFTER_S)

    def _leave(self, tenant_id: uuid.UUID, student_id: uuid.UUID) -> None:
        self._places -= 1
        for counts, key in ((self._by_tenant, tenant_id), (self._by_student, student_id)):
            counts[key] -= 1
            if not counts[key]:
                del counts[key]

    async def grade(
        self, tenant_id: uuid.UUID, student_id: uuid.UUID, answer: str, key: AnswerKey
    ) -> Grade:
        """Grade once it is this answer's turn; an answer the cost bound refuses needs none."""
        if (refused := self._grader.precheck(answer, key)) is not None:
            return refused
        await self._turn(tenant_id, student_id)
        try:
            return await self._grader.grade(answer, key)
        finally:
            self._grading -= 1
            self._dispatch()

    async def _turn(self, tenant_id: uuid.UUID, student_id: uuid.UUID) -> None:
        """Wait until a grading process is this answer's (counted in `_grading`)."""
        if self._grading < self._grader.workers and not self._waiting:
            self._grading += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(tenant_id, {}).setdefault(student_id, deque()).append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # given the turn as it was cancelled
                self._grading -= 1
                self._dispatch()
            else:
                self._forget(tenant_id, student_id, turn)
            raise

    def _dispatch(self) -> None:
        while self._waiting and self._grading < self._grader.workers:
            turn = self._next_turn()
            if not turn.done():  # a cancelled waiter leaves its turn done until it is forgotten
                self._grading += 1
                turn.set_result(None)

    def _next_turn(self) -> asyncio.Future[None]:
        """The first tenant's first student's oldest turn; re-inserting rotates both queues."""
        tenant_id = next(iter(self._waiting))
        students = self._waiting.pop(tenant_id)
        student_id = next(iter(students))
        turns = students.pop(student_id)
        turn = turns.popleft()
        if turns:
            students[student_id] = turns
        if students:
            self._waiting[tenant_id] = students
        return turn

    def _forget(
        self, tenant_id: uuid.UUID, student_id: uuid.UUID, turn: asyncio.Future[None]
    ) -> None:
        students = self._waiting.get(tenant_id, {})
        turns = students.get(student_id)
        if turns is None or turn not in turns:
            return
        turns.remove(turn)
        if not turns:
            del students[student_id]
        if not students:
            self._waiting.pop(tenant_id, None)
