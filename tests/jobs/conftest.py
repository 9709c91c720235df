"""Fixtures of the multi-process job tests: a direct connection to the nodes' database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from practicegen.db.migrator import postgres_conninfo

Db = psycopg.AsyncConnection[dict[str, Any]]


@pytest.fixture
async def db(postgres_database: str) -> AsyncIterator[Db]:
    """Reads what the nodes wrote, outside the service, in autocommit."""
    conninfo = postgres_conninfo(postgres_database)
    async with await psycopg.AsyncConnection.connect(
        conninfo, autocommit=True, row_factory=dict_row
    ) as conn:
        yield conn
