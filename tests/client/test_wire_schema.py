"""Every model of the Python client against its schema in the served OpenAPI document.

A renamed, missing or extra field, a different required-ness, or a null the client cannot read
fails here, before a user meets it. Job stream messages (WebSocket and SSE) are not in the
document; the tests against a real server cover them.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel

import practicegen_client as client
from tests.client.wire import Field, fields, mismatches, served_document

# client model -> the component schema of the served document it reads
SCHEMAS: dict[type[BaseModel], str] = {
    client.Student: "StudentRead",
    client.Goal: "GoalRead",
    client.Item: "ItemRead",
    client.ItemChoice: "ChoiceRead",
    client.Assignment: "AssignmentRead",
    client.AssignedItem: "AssignedItem",
    client.ResponseSummary: "ResponseSummary",
    client.AnswerResult: "ResponseRead",
    client.StudentToken: "StudentTokenCreated",
    client.Job: "JobRead",
    client.JobAccepted: "JobAccepted",
    client.SchoolClass: "ClassRead",
    client.Mastery: "Mastery",
    client.MasteryRule: "MasteryRule",
    client.SkillStanding: "SkillStanding",
    client.AssignmentSummary: "AssignmentSummary",
    client.ClassReport: "ClassReport",
    client.ReportRow: "ReportRow",
    client.BatchJob: "BatchJob",
    client.BatchAccepted: "BatchAccepted",
    client.Batch: "BatchRead",
    client.Catalog: "CatalogRead",
    client.CatalogSubject: "SubjectEntry",
    client.CatalogTopic: "TopicEntry",
    client.CatalogSkill: "SkillEntry",
}
# models of bodies that no schema of the document describes (`import` answers a free dict)
UNDESCRIBED = {client.ImportReport, client.RejectedRow}
# the job stream's messages: WebSocket and SSE frames, outside the OpenAPI document
MESSAGES = {
    client.StatusMessage,
    client.CompletedMessage,
    client.FailedMessage,
    client.CancelledMessage,
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return served_document(tmp_path_factory.mktemp("openapi"))


def model_fields(model: type[BaseModel]) -> dict[str, Field]:
    return {
        name: Field(required=info.is_required(), nullable=_admits_none(info.annotation))
        for name, info in model.model_fields.items()
    }


def _admits_none(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return (origin is typing.Union or origin is types.UnionType) and type(None) in typing.get_args(
        annotation
    )


@pytest.mark.parametrize("model", list(SCHEMAS), ids=lambda m: m.__name__)
def test_model_matches_the_served_schema(model: type[BaseModel], document: dict[str, Any]) -> None:
    theirs = fields(document, SCHEMAS[model])
    assert mismatches(model_fields(model), theirs, reads=True) == [], SCHEMAS[model]


def test_every_exported_model_is_checked_or_named_as_outside_the_document() -> None:
    exported = {
        value
        for value in vars(client).values()
        if isinstance(value, type) and issubclass(value, BaseModel)
    }
    assert exported == set(SCHEMAS) | UNDESCRIBED | MESSAGES


def test_a_renamed_field_is_caught(document: dict[str, Any]) -> None:
    theirs = fields(document, "StudentTokenCreated")
    ours = dict(theirs)
    ours["ttl"] = ours.pop("expires_at")
    ours["token"] = Field(required=False, nullable=False)
    assert mismatches(ours, theirs, reads=True) == [
        "extra ttl",
        "missing expires_at",
        "token: required False, served True",
    ]
