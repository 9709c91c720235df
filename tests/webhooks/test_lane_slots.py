"""The queue port's lanes on both adapters: deliveries and jobs each keep their own slots.

Real pgqueuer on PostgreSQL (the jobs' consumer and the lane's, each with its own manager), its
in-memory adapter on SQLite. Every message's handler holds its slot until released: jobs fill
exactly their slots and no more, tenant A's deliveries fill exactly A's share of the lane, and
tenant B's delivery still runs; once released, every message has been handled exactly once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from practicegen.app import create_queue
from practicegen.bootstrap import prepare
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.webhooks.service import WEBHOOK_DELIVERY
from tests.conftest import make_settings
from tests.support.processes import wait_until

JOBS, LANE, SHARE = 2, 3, 2


async def test_jobs_and_a_tenants_deliveries_stay_in_their_slots(database_url: str) -> None:
    settings = make_settings(
        database_url,
        queue_poll_s=0.2,
        webhook_concurrency=LANE,
        webhook_tenant_share=SHARE,
        webhook_defer_s=0.1,
        webhook_timeout_s=1,
    )
    await prepare(settings)
    engine = create_engine(settings)
    queue = create_queue(settings)
    tenant_a, tenant_b = uuid.uuid4(), uuid.uuid4()
    kinds = {uuid.uuid4(): "job" for _ in range(5)}
    kinds |= {uuid.uuid4(): "a" for _ in range(5)}
    b_delivery = uuid.uuid4()
    kinds[b_delivery] = "b"
    running, peak, handled = Counter[str](), Counter[str](), list[uuid.UUID]()
    release = asyncio.Event()

    async def handler(job_id: uuid.UUID) -> None:
        kind = kinds[job_id]
        running[kind] += 1
        peak[kind] = max(peak[kind], running[kind])
        handled.append(job_id)
        try:
            if job_id != b_delivery:
                await release.wait()
        finally:
            running[kind] -= 1

    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            for job_id, kind in kinds.items():
                if kind == "job":
                    await queue.enqueue(session, job_id, job_type="practice_generation")
                else:
                    tenant = tenant_a if kind == "a" else tenant_b
                    await queue.enqueue(
                        session, job_id, job_type=WEBHOOK_DELIVERY, tenant_id=tenant
                    )
        consumer = asyncio.create_task(queue.run(handler, concurrency=JOBS))
        try:
            await wait_until(lambda: _filled(running, peak), limit_s=20, what="every slot taken")
            await asyncio.sleep(0.5)  # long enough for more to be picked, were there room
            assert (peak["job"], peak["a"], peak["b"]) == (JOBS, SHARE, 1)
            assert sum(lane.deferred for lane in queue.lanes) > 0  # A's others were held back
            release.set()
            await wait_until(
                lambda: _all_handled(handled, len(kinds)), limit_s=20, what="every message"
            )
        finally:
            release.set()
            queue.stop()
            await asyncio.wait_for(consumer, 10)
        assert sorted(handled) == sorted(kinds)  # each once: a deferral runs nothing
    finally:
        await engine.dispose()


async def _filled(running: Counter[str], peak: Counter[str]) -> bool:
    return running["job"] >= JOBS and running["a"] >= SHARE and peak["b"] == 1


async def _all_handled(handled: list[uuid.UUID], count: int) -> bool:
    return len(handled) >= count
