"""HTTP edge for keys and student tokens: /api/v1/keys, /api/v1/tokens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from practicegen.api.deps import KeyCacheDep, NowDep, PrincipalDep, SessionDep, SettingsDep
from practicegen.api.envelope import Envelope, ok
from practicegen.auth import service
from practicegen.auth.principal import Role
from practicegen.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    StudentTokenCreate,
    StudentTokenCreated,
)
from practicegen.db.models import ApiKey

router = APIRouter(prefix="/api/v1", tags=["auth"])


def _read(row: ApiKey) -> ApiKeyRead:
    return ApiKeyRead(
        key_id=row.id,
        name=row.name,
        role=row.role,
        key_suffix=row.key_suffix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@router.post("/keys", status_code=status.HTTP_201_CREATED)
async def create_key(
    body: ApiKeyCreate, session: SessionDep, principal: PrincipalDep
) -> Envelope[ApiKeyCreated]:
    principal.require_admin()
    issued = await service.create_key(
        session, tenant_id=principal.tenant_id, name=body.name, role=Role(body.role)
    )
    return ok(ApiKeyCreated(**_read(issued.row).model_dump(), key=issued.secret))


@router.get("/keys")
async def list_keys(session: SessionDep, principal: PrincipalDep) -> Envelope[list[ApiKeyRead]]:
    principal.require_admin()
    rows = await service.list_keys(session, tenant_id=principal.tenant_id)
    return ok([_read(r) for r in rows])


@router.delete("/keys/{key_id}")
async def revoke_key(
    key_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    key_cache: KeyCacheDep,
) -> Envelope[ApiKeyRead]:
    principal.require_admin()
    row = await service.revoke_key(session, tenant_id=principal.tenant_id, key_id=key_id, now=now)
    key_cache.forget(key_id)
    return ok(_read(row))


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
            token=issued.secret, student_id=body.student_id, expires_at=issued.row.expires_at
        )
    )
