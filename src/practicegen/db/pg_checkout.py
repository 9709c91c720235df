"""Transitional: `jobs/pg_create.py`'s pool check, now psycopg_pool's own; delete with it."""

from psycopg_pool import AsyncConnectionPool

CHECKS_SOCKET = True
check_psycopg = AsyncConnectionPool.check_connection
