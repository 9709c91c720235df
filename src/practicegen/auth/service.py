"""Authenticating bearer secrets, managing keys, student tokens, the first tenant. A student
token is a row of `api_keys` (role `student`), checked, listed and revoked like a server key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.cache import KeyCache
from practicegen.auth.keys import (
    SERVER_KEY_PREFIX,
    STUDENT_TOKEN_PREFIX,
    hash_secret,
    new_secret,
    suffix,
)
from practicegen.auth.principal import DEFAULT_TENANT_ID, Principal, Role
from practicegen.auth.repository import AuthRepository
from practicegen.db.models import ApiKey, Tenant
from practicegen.errors import (
    ApiKeyNotFound,
    NotAuthenticated,
    StudentNotFound,
    StudentTokenNotFound,
)

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A freshly made key or token: the only moment its plain text exists."""

    row: ApiKey
    secret: str


async def authenticate(
    session: AsyncSession, *, raw: str, now: datetime, cache: KeyCache | None = None
) -> Principal:
    key_hash = hash_secret(raw)
    if cache is not None and (known := cache.get(key_hash, now)) is not None:
        return known
    if (row := await AuthRepository(session).get_usable_key_by_hash(key_hash, now)) is None:
        raise NotAuthenticated("The API key or token is unknown, revoked or expired.")
    principal = Principal(
        tenant_id=row.tenant_id, role=Role(row.role), key_id=row.id, student_id=row.student_id
    )
    if cache is not None:
        cache.put(key_hash, principal, row.expires_at)
    return principal


async def _issue(repo: AuthRepository, secret: str, **columns: Any) -> IssuedSecret:
    row = ApiKey(key_hash=hash_secret(secret), key_suffix=suffix(secret), **columns)
    await repo.add(row)
    return IssuedSecret(row=row, secret=secret)


async def create_key(
    session: AsyncSession, *, tenant_id: uuid.UUID, name: str, role: Role, raw: str | None = None
) -> IssuedSecret:
    secret = raw or new_secret(SERVER_KEY_PREFIX)
    issued = await _issue(
        AuthRepository(session), secret, tenant_id=tenant_id, name=name, role=role.value
    )
    row = issued.row
    log.info("auth.key_created", key_id=str(row.id), role=role.value, key_suffix=row.key_suffix)
    return issued


async def revoke(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    key_id: uuid.UUID,
    now: datetime,
    student_token: bool = False,
) -> ApiKey:
    """Refuse the key (with `student_token`, only a student token) from now on; idempotent."""
    row = await AuthRepository(session).get_key(tenant_id, key_id, student_token=student_token)
    if row is None and student_token:
        raise StudentTokenNotFound(token_id=str(key_id))
    if row is None:
        raise ApiKeyNotFound(key_id=str(key_id))
    if row.revoked_at is None:
        row.revoked_at = now
        await session.flush()
        event = "auth.student_token_revoked" if student_token else "auth.key_revoked"
        log.info(event, key_id=str(row.id), key_suffix=row.key_suffix)
    return row


async def mint_student_token(
    session: AsyncSession, *, tenant_id: uuid.UUID, student_id: uuid.UUID, ttl_s: int, now: datetime
) -> IssuedSecret:
    repo = AuthRepository(session)
    if not await repo.has_student(tenant_id, student_id):
        raise StudentNotFound(student_id=str(student_id))
    return await _issue(
        repo,
        new_secret(STUDENT_TOKEN_PREFIX),
        tenant_id=tenant_id,
        name="student token",
        role=Role.STUDENT.value,
        student_id=student_id,
        expires_at=now + timedelta(seconds=ttl_s),
    )


async def create_tenant(session: AsyncSession, *, name: str) -> Tenant:
    tenant = Tenant(name=name)
    await AuthRepository(session).add(tenant)
    return tenant


async def ensure_default_tenant(session: AsyncSession) -> Tenant:
    repo = AuthRepository(session)
    if (tenant := await repo.get_tenant(DEFAULT_TENANT_ID)) is None:
        try:
            async with session.begin_nested():
                tenant = Tenant(id=DEFAULT_TENANT_ID, name="default")
                await repo.add(tenant)
        except IntegrityError:  # another node starting at the same moment made it first
            tenant = await repo.get_tenant(DEFAULT_TENANT_ID)
            assert tenant is not None
    return tenant


async def ensure_admin_key(session: AsyncSession, *, configured: str | None) -> str | None:
    """Make sure someone can get in: adopt `configured` once as an admin key, or make one if none
    exists; return a key's plain text only if this call created it."""
    repo = AuthRepository(session)
    tenant = await ensure_default_tenant(session)
    if configured is not None:
        if await repo.get_by_hash(hash_secret(configured)) is None:
            await create_key(
                session,
                tenant_id=tenant.id,
                name="admin (from settings)",
                role=Role.ADMIN,
                raw=configured,
            )
        return None
    if await repo.count_usable_admin_keys() > 0:
        return None
    return (await create_key(session, tenant_id=tenant.id, name="admin", role=Role.ADMIN)).secret
