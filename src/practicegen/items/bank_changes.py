"""Telling item caches that a tenant's bank changed: a write marks the tenant in its session;
just before commit its version (the sum of its `bank_versions` rows) is bumped on a random row,
so concurrent jobs do not queue on one lock, and PostgreSQL sends `NOTIFY practicegen_bank`.
After commit the local cache and every listening node drop the tenant's entries.
"""

from __future__ import annotations

import functools
import random
import uuid
from typing import Protocol

from sqlalchemy import Executable, bindparam, event, func
from sqlalchemy.orm import Session

from practicegen.db.models import BankVersion, core_table
from practicegen.db.sqlite_driver import pipelined
from practicegen.db.upsert import upsert_in

BANK_CHANNEL = "practicegen_bank"
SHARDS = 16
_versions = core_table(BankVersion)
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
    dialect = session.get_bind().dialect.name
    bump = _bump_statement(dialect)
    for tenant_id in sorted(changed):
        row: dict[str, object] = {"tenant_id": tenant_id, "shard": random.randrange(SHARDS)}
        if dialect == "postgresql":
            row["payload"] = str(tenant_id)
        with pipelined(session.connection()):  # on SQLite, sent with the commit
            session.execute(bump, row)


@functools.cache
def _bump_statement(dialect: str) -> Executable:
    """One row's upsert, built once per dialect; on PostgreSQL it also sends the NOTIFY."""
    bump = upsert_in(dialect, _versions).values(
        tenant_id=bindparam("tenant_id"), shard=bindparam("shard"), version=1
    )
    bump = bump.on_conflict_do_update(
        index_elements=[_versions.c.tenant_id, _versions.c.shard],
        set_={"version": _versions.c.version + 1},
    )
    if dialect == "postgresql":
        return bump.returning(func.pg_notify(BANK_CHANNEL, bindparam("payload")))
    return bump


@event.listens_for(Session, "after_commit")
def _invalidate_after_commit(session: Session) -> None:
    changed: set[uuid.UUID] = session.info.pop(_CHANGED, set())
    if (cache := session.info.get(_CACHE)) is not None:
        for tenant_id in changed:
            cache.invalidate(tenant_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
