"""`clients/js/src/types.ts` against the served OpenAPI document, field by field.

A small reader takes each exported interface (following `extends`) as fields with whether they
are optional (`?`) and may be null (`| null`); each interface that mirrors a schema must have
its fields, with the same required-ness, and accept every null the service may send. The job
stream's messages are outside the document.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.client.wire import Field, fields, mismatches, served_document

TYPES = Path(__file__).resolve().parents[2] / "clients" / "js" / "src" / "types.ts"
# interface -> (component schema, whether the client reads it rather than sends it)
SCHEMAS: dict[str, tuple[str, bool]] = {
    "Student": ("StudentRead", True),
    "StudentCreate": ("StudentCreate", False),
    "ItemChoice": ("ChoiceRead", True),
    "ResponseSummary": ("ResponseSummary", True),
    "AssignedItem": ("AssignedItem", True),
    "Assignment": ("AssignmentRead", True),
    "AssignRequest": ("AssignRequest", False),
    "AsyncAssignRequest": ("AsyncAssignRequest", False),
    "JobAccepted": ("JobAccepted", True),
    "Job": ("JobRead", True),
    "AnswerResult": ("ResponseRead", True),
    "StudentToken": ("StudentTokenCreated", True),
    "StudentTokenInfo": ("StudentTokenRead", True),
    "SchoolClass": ("ClassRead", True),
    "StudentNames": ("Members", False),
    "ClassCreate": ("ClassCreate", False),
    "ClassAssignRequest": ("ClassAssignRequest", False),
    "BatchCreate": ("BatchCreate", False),
    "BatchJob": ("BatchJob", True),
    "BatchAccepted": ("BatchAccepted", True),
    "Batch": ("BatchRead", True),
    "MasteryRule": ("MasteryRule", True),
    "SkillStanding": ("SkillStanding", True),
    "Mastery": ("Mastery", True),
    "AssignmentSummary": ("AssignmentSummary", True),
    "ReportRow": ("ReportRow", True),
    "ClassReport": ("ClassReport", True),
    "Catalog": ("CatalogRead", True),
    "CatalogSubject": ("SubjectEntry", True),
    "CatalogTopic": ("TopicEntry", True),
    "CatalogSkill": ("SkillEntry", True),
}
MESSAGES = {"StatusMessage", "CompletedMessage", "FailedMessage", "CancelledMessage"}

_INTERFACE = re.compile(r"export interface (\w+)(?: extends (\w+))? \{(.*?)\n\s*\}", re.S)
_FIELD = re.compile(r"^\s*(\w+)(\??):\s*([^;]+);", re.M)


def interfaces(source: str) -> dict[str, dict[str, Field]]:
    """Each exported interface's fields, its base's included (bases come first in the file)."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r"//[^\n]*", "", source)
    found: dict[str, dict[str, Field]] = {}
    for match in _INTERFACE.finditer(source):
        name, base, body = match.groups()
        own = dict(found[base]) if base else {}
        for field in _FIELD.finditer(body):
            nullable = re.search(r"\bnull\b", field.group(3)) is not None
            own[field.group(1)] = Field(required=field.group(2) != "?", nullable=nullable)
        found[name] = own
    return found


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return served_document(tmp_path_factory.mktemp("openapi"))


def test_every_interface_is_checked_or_a_stream_message() -> None:
    assert set(interfaces(TYPES.read_text())) == set(SCHEMAS) | MESSAGES


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_interface_matches_the_served_schema(name: str, document: dict[str, Any]) -> None:
    schema, reads = SCHEMAS[name]
    ours = interfaces(TYPES.read_text())[name]
    assert mismatches(ours, fields(document, schema), reads=reads) == [], schema


def test_the_reader_sees_optional_nullable_and_inherited_fields() -> None:
    source = """
    export interface Base { /** a comment; with: colons */
      id: string; // trailing
      note?: string | null;
    }
    export interface Child extends Base {
      count: number;
    }
    """
    assert interfaces(source)["Child"] == {
        "id": Field(required=True, nullable=False),
        "note": Field(required=False, nullable=True),
        "count": Field(required=True, nullable=False),
    }
