"""HTTP edge for a tenant's settings: /api/v1/tenant/settings (admin keys only)."""

from __future__ import annotations

from fastapi import APIRouter

from practicegen.api.deps import NowDep, SessionDep
from practicegen.api.envelope import Envelope, ok
from practicegen.auth.deps import PrincipalDep
from practicegen.tenants import service
from practicegen.tenants.service import TenantSettingsRead, TenantSettingsUpdate

router = APIRouter(prefix="/api/v1/tenant", tags=["tenant"])


@router.get("/settings")
async def get_tenant_settings(
    session: SessionDep, principal: PrincipalDep
) -> Envelope[TenantSettingsRead]:
    return ok(await service.get_settings(session, principal=principal))


@router.patch("/settings")
async def update_tenant_settings(
    body: TenantSettingsUpdate, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> Envelope[TenantSettingsRead]:
    """Change the settings the body names; the others keep their values."""
    return ok(await service.update_settings(session, principal=principal, body=body, now=now))
