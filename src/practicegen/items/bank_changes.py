"""Telling item caches that a tenant's bank changed, without them asking on every request.

A write to a tenant's set of items marks the tenant in its session (`mark_bank_changed`); just
before the transaction commits, `tenants.bank_version` is bumped and, on PostgreSQL, a
`NOTIFY practicegen_bank, '<tenant id>'` is sent. Last, because the bump locks the tenant's row
until the commit: done early, every other writer of that tenant's items (a thousand jobs
storing what they generated) would queue behind the rest of the transaction. After the commit
this process's candidate cache drops the tenant's entries at once, and every node's listener
does the same on the NOTIFY. A node whose listener is connected can therefore trust its
cache without reading the bank version per request; one whose listener is not (SQLite, a
worker process, a dropped connection) keeps reading it.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy import event, func, update
from sqlalchemy.orm import Session

from practicegen.db.models import Tenant, core_table

BANK_CHANNEL = "practicegen_bank"
_tenants = core_table(Tenant)
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


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    # may also run at a savepoint's release; bumping twice is harmless, missing one is not
    changed = session.info.get(_CHANGED)
    if not changed:  # every commit of every session comes here: most change no bank
        return
    signal = session.get_bind().dialect.name == "postgresql"
    for tenant_id in sorted(changed):
        bump = update(_tenants).where(_tenants.c.id == tenant_id)
        bump = bump.values(bank_version=_tenants.c.bank_version + 1)
        if signal:  # the same statement sends the NOTIFY, a round trip less
            bump = bump.returning(func.pg_notify(BANK_CHANNEL, str(tenant_id)))
        session.execute(bump)


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
