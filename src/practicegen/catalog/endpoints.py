"""HTTP edge for the catalogue: GET /api/v1/catalog."""

from __future__ import annotations

from fastapi import APIRouter

from practicegen.api.deps import ContainerDep
from practicegen.api.envelope import Envelope, ok
from practicegen.auth.deps import BriefPrincipalDep
from practicegen.catalog import service
from practicegen.catalog.schemas import CatalogRead

router = APIRouter(prefix="/api/v1", tags=["catalog"])


@router.get("/catalog")
async def read_catalog(
    principal: BriefPrincipalDep, container: ContainerDep
) -> Envelope[CatalogRead]:
    """Subjects -> topics -> skills of the caller's tenant: what the bank holds (active items)
    and what the generators write, each marked `offline` (procedural generators), `model`
    (only a language model, when one is configured) or `bank` (nothing writes more).

    Every caller may read it, student tokens too. Names are the canonical spellings; requests
    may give any casing of them."""
    configured = container.settings.llm_base_url is not None
    async with container.reading_sessionmaker() as session:
        catalog = await service.read_catalog(
            session, principal=principal, model_configured=configured
        )
    return ok(catalog)
