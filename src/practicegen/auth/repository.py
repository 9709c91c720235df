"""SQL for tenants, API keys and student tokens (and whether a token's student exists)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.models import ApiKey, Student, Tenant
from practicegen.db.pagination import after_cursor, split_page


class AuthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_tenant(self, tenant_id: uuid.UUID) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def get_usable_key_by_hash(self, key_hash: str, now: datetime) -> ApiKey | None:
        query = select(ApiKey).where(
            ApiKey.key_hash == key_hash,
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get_by_hash(self, key_hash: str) -> ApiKey | None:
        query = select(ApiKey).where(ApiKey.key_hash == key_hash)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get_key(
        self, tenant_id: uuid.UUID, key_id: uuid.UUID, *, student_token: bool = False
    ) -> ApiKey | None:
        """The tenant's key or token `key_id`; with `student_token`, only if it is one."""
        query = select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id)
        if student_token:
            query = query.where(ApiKey.role == "student")
        return (await self.session.execute(query)).scalar_one_or_none()

    async def list_server_keys(self, tenant_id: uuid.UUID) -> list[ApiKey]:
        query = (
            select(ApiKey)
            .where(ApiKey.tenant_id == tenant_id, ApiKey.role != "student")
            .order_by(ApiKey.created_at)
        )
        return list((await self.session.execute(query)).scalars())

    async def list_student_tokens(
        self,
        tenant_id: uuid.UUID,
        *,
        student_id: uuid.UUID | None,
        unexpired_at: datetime,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[ApiKey], str | None]:
        """The tenant's student tokens that have not expired (revoked ones included)."""
        query = select(ApiKey).where(
            ApiKey.tenant_id == tenant_id,
            ApiKey.role == "student",
            ApiKey.expires_at > unexpired_at,
        )
        if student_id is not None:
            query = query.where(ApiKey.student_id == student_id)
        query = after_cursor(query, ApiKey.created_at, ApiKey.id, cursor, limit)
        return split_page(list((await self.session.execute(query)).scalars()), limit)

    async def has_student(self, tenant_id: uuid.UUID, student_id: uuid.UUID) -> bool:
        query = select(Student.id).where(Student.tenant_id == tenant_id, Student.id == student_id)
        return (await self.session.execute(query)).first() is not None

    async def count_usable_admin_keys(self) -> int:
        query = select(func.count()).where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))
        return int((await self.session.execute(query)).scalar_one())

    async def add(self, obj: Tenant | ApiKey) -> None:
        self.session.add(obj)
        await self.session.flush()
