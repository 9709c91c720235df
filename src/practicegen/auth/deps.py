"""Request dependencies for the caller. `PrincipalDep` authenticates in the request's own
transaction; `BriefPrincipalDep` and `authenticate_briefly` in a session closed at once (or none,
from the cache), so requests held open hold no pooled connection.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from practicegen.api.container import Container
from practicegen.api.deps import ContainerDep, NowDep, SessionDep, container_of
from practicegen.auth.cache import KeyCache
from practicegen.auth.keys import hash_secret
from practicegen.auth.principal import DEFAULT_TENANT_ID, Principal, Role
from practicegen.auth.service import authenticate
from practicegen.config import AuthMode, Settings
from practicegen.errors import NotAuthenticated


def bearer_token(request: Request) -> str | None:
    if (header := request.headers.get("authorization")) is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Use the header 'Authorization: Bearer <key or token>'.")
    return token.strip()


def anonymous(settings: Settings) -> Principal:
    """A caller without a key: the default tenant's admin with auth off, else refused."""
    if settings.auth is AuthMode.OFF:
        return Principal(tenant_id=DEFAULT_TENANT_ID, role=Role.ADMIN)
    raise NotAuthenticated()


async def get_principal(
    request: Request, container: ContainerDep, session: SessionDep, now: NowDep
) -> Principal:
    if (token := bearer_token(request)) is None:
        return anonymous(container.settings)
    return await authenticate(session, raw=token, now=now, cache=container.part(KeyCache))


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def authenticate_briefly(token: str | None, container: Container) -> Principal:
    """The caller behind `token`, checked in a session of its own that is closed at once."""
    if token is None:
        return anonymous(container.settings)
    now = container.clock()
    cache = container.part(KeyCache)
    key_hash = hash_secret(token)
    if (known := cache.get(key_hash, now)) is not None:
        return known

    async def check() -> Principal:
        async with container.sessionmaker() as session, session.begin():
            return await authenticate(session, raw=token, now=now, cache=cache)

    return await cache.check_once(key_hash, check)


async def get_principal_briefly(request: Request) -> Principal:
    # the container read directly, not as a sub-dependency: FastAPI solves a sub-dependency
    # afresh wherever it appears (only its value is cached), and this runs on most requests
    return await authenticate_briefly(bearer_token(request), container_of(request))


BriefPrincipalDep = Annotated[Principal, Depends(get_principal_briefly)]
