"""Request and response bodies for a tenant's settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StrictBool


class TenantSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    require_check_model: StrictBool | None = None


class TenantSettingsRead(BaseModel):
    require_check_model: bool
