"""Getting a database ready to serve: schema, the default tenant, a first key, the demo bank.
`serve` calls `prepare` before it listens, so the embedded default works from an empty
directory; tests call it too, so they start from what users get."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from practicegen.db.engine import create_engine, create_sessionmaker

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from practicegen.config import Settings


@dataclass(slots=True)
class Prepared:
    migrations_applied: list[str] = field(default_factory=list)
    new_admin_key: str | None = None
    demo_items_loaded: int = 0


async def prepare(settings: Settings) -> Prepared:
    # the item bank's modules load here, not for the commands that only want a `transaction`
    from practicegen.auth.principal import DEFAULT_TENANT_ID
    from practicegen.auth.service import ensure_admin_key
    from practicegen.db import migrator
    from practicegen.items.repository import ItemRepository
    from practicegen.items.service import import_bank

    report = Prepared()
    if settings.auto_migrate:
        report.migrations_applied = await migrator.upgrade(
            settings.database_url, connect_timeout_s=settings.db_connect_timeout_s
        )
    async with transaction(settings) as session:
        configured = settings.api_key.get_secret_value() if settings.api_key else None
        report.new_admin_key = await ensure_admin_key(session, configured=configured)
        if settings.demo_bank and await ItemRepository(session).count(DEFAULT_TENANT_ID) == 0:
            loaded = await import_bank(
                session, tenant_id=DEFAULT_TENANT_ID, document=demo_bank_document()
            )
            report.demo_items_loaded = loaded.imported
    return report


@asynccontextmanager
async def transaction(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session in a transaction on an engine of its own, disposed after: for one-off work."""
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


def demo_bank_document() -> Any:
    """The demo bank that ships inside the package (built by practicegen.generation.demo_bank)."""
    text = resources.files("practicegen.items").joinpath("demo_bank.json").read_text("utf-8")
    return json.loads(text)
