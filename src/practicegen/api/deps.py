"""Request dependencies every domain may use: the node's container, settings, the
transaction, the request's time, paging.

Each is an `async def`, since FastAPI runs a plain `def` dependency in a worker thread. The
session dependency commits with `scope="function"`, before the response is sent, so a failed
commit is an error the client sees, not a 200 for lost data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from practicegen.api.container import Container
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker


async def get_container(connection: HTTPConnection) -> Container:
    """The node's container, from the lifespan's state (requests and WebSockets alike)."""
    container: Container = connection.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_settings(container: ContainerDep) -> Settings:
    return container.settings


async def get_reading_sessionmaker(container: ContainerDep) -> SessionMaker:
    return container.reading_sessionmaker


async def get_session(container: ContainerDep) -> AsyncIterator[AsyncSession]:
    async with container.sessionmaker() as session, session.begin():
        yield session


async def request_time(container: ContainerDep) -> datetime:
    return container.clock()


SettingsDep = Annotated[Settings, Depends(get_settings)]
ReadingSessionMakerDep = Annotated[SessionMaker, Depends(get_reading_sessionmaker)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
NowDep = Annotated[datetime, Depends(request_time)]


async def page_limit(
    settings: SettingsDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> int:
    return min(limit, settings.list_page_max)


LimitDep = Annotated[int, Depends(page_limit)]
CursorDep = Annotated[str | None, Query(max_length=200)]
