"""What the language-model filler keeps of a tenant's bank: one read per bank version."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from practicegen.generation.llm_filler import BankReads

TENANT, OTHER = uuid.uuid4(), uuid.uuid4()


class Reader:
    """A read that counts its calls and answers with the bank version it was made for."""

    def __init__(self) -> None:
        self.calls = 0

    def at(self, version: int | None) -> Callable[[], Awaitable[str]]:
        async def read() -> str:
            self.calls += 1
            return f"read at {version}"

        return read


async def test_one_read_per_key_while_the_version_lasts() -> None:
    bank, reader = BankReads(), Reader()
    for _ in range(3):
        assert await bank.get(TENANT, 4, "skills", reader.at(4)) == "read at 4"
    assert await bank.get(TENANT, 4, "examples", reader.at(4)) == "read at 4"
    assert reader.calls == 2


async def test_a_newer_version_reads_again_and_an_older_one_is_not_kept() -> None:
    bank, reader = BankReads(), Reader()
    await bank.get(TENANT, 4, "skills", reader.at(4))
    assert await bank.get(TENANT, 5, "skills", reader.at(5)) == "read at 5"
    # a job planned before the change: answered from the database, the newer entry kept
    assert await bank.get(TENANT, 4, "skills", reader.at(4)) == "read at 4"
    assert await bank.get(TENANT, 5, "skills", reader.at(5)) == "read at 5"
    assert reader.calls == 3


async def test_an_unknown_version_is_always_read_and_tenants_are_apart() -> None:
    bank, reader = BankReads(), Reader()
    await bank.get(TENANT, None, "skills", reader.at(None))
    await bank.get(TENANT, None, "skills", reader.at(None))
    await bank.get(TENANT, 1, "skills", reader.at(1))
    assert await bank.get(OTHER, 1, "skills", reader.at(1)) == "read at 1"
    assert reader.calls == 4


async def test_the_longest_unrenewed_tenant_is_dropped_beyond_the_bound() -> None:
    bank, reader = BankReads(max_tenants=2), Reader()
    tenants = [uuid.uuid4() for _ in range(3)]
    for tenant in tenants:
        await bank.get(tenant, 1, "skills", reader.at(1))
    await bank.get(tenants[2], 1, "skills", reader.at(1))
    assert reader.calls == 3
    await bank.get(tenants[0], 1, "skills", reader.at(1))
    assert reader.calls == 4
