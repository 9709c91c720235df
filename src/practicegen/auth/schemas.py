"""Request and response bodies for keys and student tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "server"] = "server"


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key_id: uuid.UUID = Field(validation_alias=AliasChoices("key_id", "id"))
    name: str
    role: str
    key_suffix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret itself. Shown this once; store it now.")


class StudentTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    student_id: uuid.UUID
    ttl_s: int | None = Field(default=None, ge=60, description="Lifetime; capped by settings.")


class StudentTokenCreated(BaseModel):
    token: str
    token_id: uuid.UUID = Field(description="Names the token to list or revoke it.")
    student_id: uuid.UUID
    expires_at: datetime


class StudentTokenRead(BaseModel):
    """A student token as a server lists it: never the secret, only its last characters."""

    model_config = ConfigDict(from_attributes=True)

    token_id: uuid.UUID = Field(validation_alias="id")
    student_id: uuid.UUID
    token_suffix: str = Field(validation_alias="key_suffix")
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
