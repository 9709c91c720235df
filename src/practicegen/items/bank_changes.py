"""Telling item caches that a tenant's bank changed, without them asking on every request.

A write to a tenant's set of items bumps `tenants.bank_version` in its transaction. Then, on
commit, this process's candidate cache drops the tenant's entries at once, and on PostgreSQL a
`NOTIFY practicegen_bank, '<tenant id>'` (sent in the same transaction) reaches every node's
listener, whose cache does the same. A node whose listener is connected can therefore trust its
cache without reading the bank version per request; one whose listener is not (SQLite, a
worker process, a dropped connection) keeps reading it.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

BANK_CHANNEL = "practicegen_bank"
_CACHE = "practicegen.bank_cache"
_CHANGED = "practicegen.changed_banks"


class BankCache(Protocol):
    def invalidate(self, tenant_id: uuid.UUID) -> None: ...


def session_info(cache: BankCache) -> dict[str, object]:
    """The `info` a sessionmaker gives its sessions so their commits reach `cache`."""
    return {_CACHE: cache}


def mark_bank_changed(session: Session, tenant_id: uuid.UUID) -> None:
    changed: set[uuid.UUID] = session.info.setdefault(_CHANGED, set())
    changed.add(tenant_id)


@event.listens_for(Session, "after_commit")
def _invalidate_after_commit(session: Session) -> None:
    changed: set[uuid.UUID] = session.info.pop(_CHANGED, set())
    cache = session.info.get(_CACHE)
    if cache is not None:
        for tenant_id in changed:
            cache.invalidate(tenant_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
