"""What every repository of a tenant's rows does alike: find one, page through them, add one.
Every read is scoped by tenant: another tenant's row is as absent as one that does not exist."""

from __future__ import annotations

import uuid
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.models import TenantOwned
from practicegen.db.pagination import after_cursor, split_page
from practicegen.errors import NotFound

R = TypeVar("R", bound=TenantOwned)


class TenantRepository(Generic[R]):
    """The rows of `model`; a missing one is `not_found`, naming its id as `id_detail`."""

    model: type[R]
    not_found: type[NotFound] = NotFound
    id_detail = "id"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def owned(self, tenant_id: uuid.UUID) -> Select[R]:
        return select(self.model).where(self.model.tenant_id == tenant_id)

    async def get(self, tenant_id: uuid.UUID, row_id: uuid.UUID) -> R | None:
        query = self.owned(tenant_id).where(self.model.id == row_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get_or_raise(self, tenant_id: uuid.UUID, row_id: uuid.UUID) -> R:
        if (row := await self.get(tenant_id, row_id)) is None:
            raise self.not_found(**{self.id_detail: str(row_id)})
        return row

    async def page(
        self, query: Select[Any], *, cursor: str | None, limit: int
    ) -> tuple[list[R], str | None]:
        """A page of `query`'s rows in (created_at, id) order, and the next page's cursor."""
        query = after_cursor(query, self.model.created_at, self.model.id, cursor, limit)
        return split_page(list((await self.session.execute(query)).scalars()), limit)

    async def add(self, row: R) -> None:
        self.session.add(row)
        await self.session.flush()
