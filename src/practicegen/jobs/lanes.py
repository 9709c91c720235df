"""Lanes: job types in a bounded share of their own (an entrypoint capped at `concurrency`), fair
between tenants: a process hands back a message past its tenant's share, unclaimed, for a while."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from pgqueuer.errors import RetryRequested
from pgqueuer.models import Job as QueueMessage

Consume = Callable[[QueueMessage], Awaitable[None]]
TENANT_HEADER = "tenant_id"
NO_TENANT = ""


@dataclass(eq=False)
class Lane:
    entrypoint: str
    job_types: frozenset[str]
    concurrency: int
    tenant_share: int
    defer_s: float
    defer_max_s: float
    in_flight: Counter[str] = field(default_factory=Counter)  # running here, by tenant id
    deferred: int = 0  # messages handed back here because their tenant's share was in use

    def admitting(self, consume: Consume) -> Consume:
        """`consume`, run only while the message's tenant is within its share."""

        async def admitted(message: QueueMessage) -> None:
            tenant = None if message.headers is None else message.headers.get(TENANT_HEADER)
            tenant = tenant if isinstance(tenant, str) else NO_TENANT
            if tenant != NO_TENANT and self.in_flight[tenant] >= self.tenant_share:
                self.deferred += 1
                raise RetryRequested(delay=self._deferral(message), reason="tenant share in use")
            self.in_flight[tenant] += 1
            try:
                await consume(message)
            finally:
                self.in_flight[tenant] -= 1
                if self.in_flight[tenant] <= 0:
                    del self.in_flight[tenant]

        return admitted

    def _deferral(self, message: QueueMessage) -> timedelta:
        doubled = self.defer_s * 2.0 ** min(message.attempts, 16)
        return timedelta(seconds=min(doubled, max(self.defer_s, self.defer_max_s)))
