"""The service's exceptions, mapped to HTTP once, at the edge (`api/errors.py`), each with a
stable `code`, a message and `details`; a subclass shares its parent's status.
"""

from __future__ import annotations

from typing import Any


class PracticegenError(Exception):
    code = "internal_error"
    default_message = "Something went wrong on our side."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class InvalidRequest(PracticegenError):
    code = "invalid_request"
    default_message = "The request is not valid."


class UnknownSubject(InvalidRequest):
    code = "unknown_subject"
    default_message = "No items or generators exist for this subject."


class UnknownGoal(InvalidRequest):
    code = "unknown_goal"
    default_message = "A goal tag does not name a goal of yours."


class NumItemsOutOfRange(InvalidRequest):
    code = "num_items_out_of_range"
    default_message = "num_items is out of range."


class InvalidText(InvalidRequest):
    code = "invalid_text"
    default_message = "Text must not contain NUL characters or unpaired surrogates."


class NotAuthenticated(PracticegenError):
    code = "not_authenticated"
    default_message = "A valid API key or token is required (Authorization: Bearer ...)."


class PermissionDenied(PracticegenError):
    code = "permission_denied"
    default_message = "This key or token may not do that."


class NotFound(PracticegenError):
    code = "not_found"
    default_message = "Not found."


class StudentNotFound(NotFound):
    code = "student_not_found"
    default_message = "No such student."


class GoalNotFound(NotFound):
    code = "goal_not_found"
    default_message = "No such goal."


class ItemNotFound(NotFound):
    code = "item_not_found"
    default_message = "No such item."


class AssignmentNotFound(NotFound):
    code = "assignment_not_found"
    default_message = "No such assignment."


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    default_message = "No such API key."


class Conflict(PracticegenError):
    code = "conflict"
    default_message = "The request conflicts with the current state."


class DuplicateExternalId(Conflict):
    code = "duplicate_external_id"
    default_message = "A student with this external_id already exists."


class PayloadTooLarge(PracticegenError):
    code = "payload_too_large"
    default_message = "The request body is too large."


class Gone(PracticegenError):
    code = "gone"
    default_message = "This resource existed but has expired."


class RateLimited(PracticegenError):
    code = "rate_limited"
    default_message = "Too many requests; retry later."
    retry_after_s = 5


class StudentWebhookRefused(PermissionDenied):
    code = "student_webhook_refused"
    default_message = (
        "A student token may not set webhook_url: webhooks go to servers, with answer keys."
    )


class StudentTokenNotFound(NotFound):
    code = "student_token_not_found"
    default_message = "No such student token."


class TooManyRequests(RateLimited):
    code = "too_many_requests"
    default_message = "Too many of your requests are waiting for this resource; retry shortly."


class ServiceBusy(PracticegenError):
    code = "service_busy"
    default_message = "This node is too busy to take the request now; retry shortly."
    retry_after_s = 1
