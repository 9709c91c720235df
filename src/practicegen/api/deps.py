"""Request dependencies: settings, the transaction, the caller, the clock.

Each is an `async def`: FastAPI runs a plain `def` dependency in a worker thread, a thread hop
per dependency per request for what is an attribute read.

The session dependency owns the transaction: it commits when the endpoint returns and rolls
back when it raises. It runs with `scope="function"` so the commit happens before the response
is sent; a failed commit is then an error the client sees, not a 200 for lost data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.cache import KeyCache
from practicegen.auth.principal import DEFAULT_TENANT_ID, Principal, Role
from practicegen.auth.service import authenticate, recently_checked
from practicegen.config import AuthMode, Settings
from practicegen.db.engine import SessionMaker
from practicegen.errors import NotAuthenticated


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_sessionmaker(request: Request) -> SessionMaker:
    sessionmaker: SessionMaker = request.app.state.sessionmaker
    return sessionmaker


async def get_reading_sessionmaker(request: Request) -> SessionMaker:
    """Sessions for a single read: on PostgreSQL each statement commits by itself, sparing
    the BEGIN and ROLLBACK trips around it (job status polls and streams)."""
    sessionmaker: SessionMaker = request.app.state.reading_sessionmaker
    return sessionmaker


ReadingSessionMakerDep = Annotated[SessionMaker, Depends(get_reading_sessionmaker)]


async def get_session(
    sessionmaker: Annotated[SessionMaker, Depends(get_sessionmaker)],
) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session, session.begin():
        yield session


def utcnow() -> datetime:
    return datetime.now(UTC)


async def request_time() -> datetime:
    return datetime.now(UTC)


async def get_key_cache(request: Request) -> KeyCache:
    cache: KeyCache = request.app.state.key_cache
    return cache


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
NowDep = Annotated[datetime, Depends(request_time)]
KeyCacheDep = Annotated[KeyCache, Depends(get_key_cache)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Use the header 'Authorization: Bearer <key or token>'.")
    return token.strip()


async def get_principal(
    request: Request, settings: SettingsDep, session: SessionDep, now: NowDep, cache: KeyCacheDep
) -> Principal:
    token = bearer_token(request)
    if token is None:
        if settings.auth is AuthMode.OFF:
            return Principal(tenant_id=DEFAULT_TENANT_ID, role=Role.ADMIN)
        raise NotAuthenticated()
    return await authenticate(session, raw=token, now=now, cache=cache)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_principal_briefly(request: Request) -> Principal:
    """The caller, authenticated in a session of its own that is closed at once.

    For endpoints that hold a request open (long-poll, event streams): the request's session
    would keep a pooled connection for the whole wait, and a few dozen waiting clients would
    take every connection the node has. Also for endpoints that open their own session. A key
    this node checked moments ago needs no session at all. It reads the node's parts itself
    rather than through sub-dependencies: this runs on every such request, and FastAPI's cost
    per dependency is larger than an attribute read.
    """
    state = request.app.state
    cache: KeyCache = state.key_cache
    now = utcnow()
    token = bearer_token(request)
    if token is not None and (known := recently_checked(token, now, cache)) is not None:
        return known
    sessionmaker: SessionMaker = state.sessionmaker
    async with sessionmaker() as session, session.begin():
        return await get_principal(request, state.settings, session, now, cache)


BriefPrincipalDep = Annotated[Principal, Depends(get_principal_briefly)]


async def page_limit(
    settings: SettingsDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> int:
    return min(limit, settings.list_page_max)


LimitDep = Annotated[int, Depends(page_limit)]
CursorDep = Annotated[str | None, Query(max_length=200)]
