"""Request dependencies every domain may use, each an `async def` (a plain `def` runs in a
thread); the session commits before the response is sent, so the client sees a failed commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, cast

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from practicegen.api.container import Container
from practicegen.config import Settings


def container_of(connection: HTTPConnection) -> Container:
    """The node's container, from the lifespan's state (requests and WebSockets alike)."""
    return cast(Container, connection.state.container)


async def get_container(connection: HTTPConnection) -> Container:
    return container_of(connection)


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_settings(container: ContainerDep) -> Settings:
    return container.settings


async def get_session(container: ContainerDep) -> AsyncIterator[AsyncSession]:
    async with container.sessionmaker() as session, session.begin():
        yield session


async def request_time(container: ContainerDep) -> datetime:
    return container.clock()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
NowDep = Annotated[datetime, Depends(request_time)]


async def page_limit(
    settings: SettingsDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> int:
    return min(limit, settings.list_page_max)


LimitDep = Annotated[int, Depends(page_limit)]
CursorDep = Annotated[str | None, Query(max_length=200)]
