"""SQL for students. Every read is scoped by tenant."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from practicegen.db.models import Student
from practicegen.db.repository import TenantRepository
from practicegen.errors import DuplicateExternalId, StudentNotFound


class StudentRepository(TenantRepository[Student]):
    model = Student
    not_found = StudentNotFound
    id_detail = "student_id"

    async def add(self, row: Student) -> None:
        try:
            await super().add(row)
        except IntegrityError as exc:  # (tenant_id, external_id) is unique
            raise DuplicateExternalId(external_id=row.external_id) from exc
