"""The served OpenAPI document, made to tell the truth about errors and bounds, as clients are
generated from it: each operation gains the errors it can give, `num_items` this node's bounds,
and every `subject` and `topic` the rule that matches it to a known name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI

from practicegen.config import Settings

ERROR_SCHEMA = "ErrorEnvelope"
_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
_ERROR_ENVELOPE: dict[str, Any] = {
    "title": ERROR_SCHEMA,
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "success": {"type": "boolean", "const": False},
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "Stable; what clients branch on."},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        },
    },
}
_DESCRIPTIONS = {
    400: "Malformed JSON.",
    401: "No valid API key or token.",
    403: "The key or token may not do this.",
    404: "No such resource (or not this tenant's).",
    409: "Conflicts with the resource's state or with a request in flight.",
    410: "The job existed but is past its retention.",
    413: "The body is over the size limit.",
    422: "The request did not pass validation (`validation_error`, `invalid_text`, ...).",
    429: "Over a rate or concurrency limit; see `Retry-After`.",
    503: "The database or a shared resource is busy or down; see `Retry-After`.",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"headers": {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}}},
    429: {"headers": _RETRY_AFTER},
    503: {"headers": _RETRY_AFTER},
}
# what only the service knows: which operations can conflict, and which take a limited lane
CONFLICTS = {
    ("post", "/api/v1/students"),
    ("post", "/api/v1/practice/assign/async"),
    ("post", "/api/v1/jobs/{job_id}/cancel"),
    ("post", "/api/v1/jobs/{job_id}/retry"),
    ("post", "/api/v1/assignments/{assignment_id}/responses"),
    ("post", "/api/v1/classes"),
    ("post", "/api/v1/classes/{class_id}/students"),
    ("post", "/api/v1/classes/{class_id}/assign/async"),
    ("post", "/api/v1/batches"),
}
LIMITED = {
    ("post", "/api/v1/practice/assign"),
    ("post", "/api/v1/practice/assign/async"),
    ("post", "/api/v1/jobs/{job_id}/retry"),
    ("post", "/api/v1/assignments/{assignment_id}/responses"),
    ("post", "/api/v1/webhook-deliveries/{delivery_id}/redeliver"),
    ("post", "/api/v1/classes/{class_id}/assign/async"),
    ("post", "/api/v1/batches"),
}
# outside /api/, only readiness reads the database, and says so with a 503
READS_DATABASE = {("get", "/readyz")}
# bodies that name other resources by id, so an unknown id is a 404
REFERRING = {
    ("post", "/api/v1/practice/assign"),
    ("post", "/api/v1/practice/assign/async"),
    ("post", "/api/v1/tokens"),
    ("post", "/api/v1/classes"),
    ("post", "/api/v1/batches"),
}


def error_statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    listed = {503: READS_DATABASE, 404: REFERRING, 409: CONFLICTS, 429: LIMITED}
    statuses = {status for status, operations in listed.items() if (method, path) in operations}
    statuses.add(422)  # any query parameter may break the text rules
    if path.startswith("/api/"):
        statuses |= {401, 403, 503}
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {400, 413}
    if path.startswith(("/api/v1/jobs/{job_id}", "/api/v1/batches/{batch_id}")):
        statuses.add(410)
    return statuses


def _declare_errors(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA] = _ERROR_ENVELOPE
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in error_statuses(method, path, operation):
                responses[str(status)] = {
                    "description": _DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": _ERROR_REF}},
                    **_HEADERS.get(status, {}),
                }
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def _operations(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in document.get("paths", {}).values():
        yield from item.values()


def _body_schema(operation: dict[str, Any]) -> str:
    """The name of the schema of `operation`'s JSON body ("" if none)."""
    content = operation.get("requestBody", {}).get("content", {})
    ref: str = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1]


def _bound_num_items(document: dict[str, Any], maximum: int) -> None:
    """A request body's `num_items` shows the bounds this node checks it against."""
    schemas = document.get("components", {}).get("schemas", {})
    for operation in _operations(document):
        field = schemas.get(_body_schema(operation), {}).get("properties", {}).get("num_items")
        if field is not None:
            field.update(minimum=1, maximum=maximum)


NAME_RULE = (
    "Matched ignoring case to a known name (`algebra` is `Algebra`, as `GET /api/v1/catalog` "
    "spells it); the known spelling is what is stored and answered."
)


def _describe_names(document: dict[str, Any]) -> None:
    """Each `subject` and `topic` a request sends, in a body or a query, states the rule."""
    schemas = document.get("components", {}).get("schemas", {})
    for operation in _operations(document):
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "query" and parameter.get("name") == "subject":
                parameter["description"] = NAME_RULE
            if parameter.get("in") == "query" and parameter.get("name") == "topic":
                parameter["description"] = f"With `subject`: {NAME_RULE[0].lower()}{NAME_RULE[1:]}"
        properties = schemas.get(_body_schema(operation), {}).get("properties", {})
        for field in ("subject", "topic"):
            if field in properties:
                properties[field]["description"] = NAME_RULE


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Serve the corrected document at /openapi.json (built once, on first request)."""

    generate = app.openapi  # FastAPI's own, which keeps what it built in `app.openapi_schema`

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        _declare_errors(document)
        _bound_num_items(document, settings.max_num_items)
        _describe_names(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
