"""The authenticated caller: scoped to `tenant_id`, and a student token to its student."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from practicegen.errors import PermissionDenied, StudentNotFound

DEFAULT_TENANT_ID = uuid.UUID("00000000-0000-0000-0000-000000000001")


class Role(StrEnum):
    ADMIN = "admin"  # a server-side key that may also manage keys
    SERVER = "server"  # a server-side key: everything in its tenant except key management
    STUDENT = "student"  # a short-lived browser token: one student's own practice only


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: uuid.UUID
    role: Role
    key_id: uuid.UUID | None = None
    student_id: uuid.UUID | None = None

    @property
    def is_student(self) -> bool:
        return self.role is Role.STUDENT

    def require_server(self) -> None:
        if self.role is Role.STUDENT:
            raise PermissionDenied("This needs a server-side API key, not a student token.")

    def require_admin(self) -> None:
        if self.role is not Role.ADMIN:
            raise PermissionDenied("This needs an admin API key.")

    def require_student_access(self, student_id: uuid.UUID) -> None:
        """A student token reaches only its own student; others look absent, not forbidden."""
        if self.role is Role.STUDENT and student_id != self.student_id:
            raise StudentNotFound(student_id=str(student_id))
