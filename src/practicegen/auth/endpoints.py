"""HTTP edge for keys and student tokens: /api/v1/keys, /api/v1/tokens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from practicegen.api.deps import ContainerDep, CursorDep, LimitDep, NowDep, SessionDep, SettingsDep
from practicegen.api.envelope import Envelope, Page, ok
from practicegen.auth import service
from practicegen.auth.cache import KeyCache
from practicegen.auth.deps import PrincipalDep
from practicegen.auth.principal import Role
from practicegen.auth.repository import AuthRepository
from practicegen.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    StudentTokenCreate,
    StudentTokenCreated,
    StudentTokenRead,
)

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/keys", status_code=status.HTTP_201_CREATED)
async def create_key(
    body: ApiKeyCreate, session: SessionDep, principal: PrincipalDep
) -> Envelope[ApiKeyCreated]:
    principal.require_admin()
    issued = await service.create_key(
        session, tenant_id=principal.tenant_id, name=body.name, role=Role(body.role)
    )
    read = ApiKeyRead.model_validate(issued.row)
    return ok(ApiKeyCreated(**read.model_dump(), key=issued.secret))


@router.get("/keys")
async def list_keys(session: SessionDep, principal: PrincipalDep) -> Envelope[list[ApiKeyRead]]:
    principal.require_admin()
    rows = await AuthRepository(session).list_server_keys(principal.tenant_id)
    return ok([ApiKeyRead.model_validate(r) for r in rows])


@router.delete("/keys/{key_id}")
async def revoke_key(
    key_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    container: ContainerDep,
) -> Envelope[ApiKeyRead]:
    principal.require_admin()
    row = await service.revoke(session, tenant_id=principal.tenant_id, key_id=key_id, now=now)
    container.part(KeyCache).forget(key_id)
    return ok(ApiKeyRead.model_validate(row))


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
async def create_student_token(
    body: StudentTokenCreate,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    now: NowDep,
) -> Envelope[StudentTokenCreated]:
    """A short-lived token that lets a browser act for one student (and nothing more)."""
    principal.require_server()
    ttl = min(body.ttl_s or settings.student_token_ttl_s, settings.student_token_ttl_s)
    issued = await service.mint_student_token(
        session, tenant_id=principal.tenant_id, student_id=body.student_id, ttl_s=ttl, now=now
    )
    assert issued.row.expires_at is not None
    return ok(
        StudentTokenCreated(
            token=issued.secret,
            token_id=issued.row.id,
            student_id=body.student_id,
            expires_at=issued.row.expires_at,
        )
    )


@router.get("/tokens")
async def list_student_tokens(
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    limit: LimitDep,
    cursor: CursorDep = None,
    student_id: uuid.UUID | None = None,
) -> Envelope[Page[StudentTokenRead]]:
    """The tenant's student tokens not yet expired (revoked ones show `revoked_at`)."""
    principal.require_server()
    rows, next_cursor = await AuthRepository(session).list_student_tokens(
        principal.tenant_id, student_id=student_id, unexpired_at=now, cursor=cursor, limit=limit
    )
    tokens = [StudentTokenRead.model_validate(r) for r in rows]
    return ok(Page(items=tokens, next_cursor=next_cursor))


@router.delete("/tokens/{token_id}")
async def revoke_student_token(
    token_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    container: ContainerDep,
) -> Envelope[StudentTokenRead]:
    """Revoke a student token: refused at once here, within `PRACTICEGEN_AUTH_CACHE_S` on
    every other node."""
    principal.require_server()
    row = await service.revoke(
        session, tenant_id=principal.tenant_id, key_id=token_id, now=now, student_token=True
    )
    container.part(KeyCache).forget(token_id)
    return ok(StudentTokenRead.model_validate(row))
