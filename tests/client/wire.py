"""The served OpenAPI document read as wire fields: the one source the clients are checked against.

`fields(document, schema)` gives each property of a component schema with whether the document
requires it and whether it may be null, so a client's model or TypeScript interface can be
compared with it field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from practicegen.app import create_app
from tests.conftest import make_settings


@dataclass(frozen=True)
class Field:
    required: bool
    nullable: bool


def served_document(tmp: Path) -> dict[str, Any]:
    """What `GET /openapi.json` serves, for a default configuration."""
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp / 'openapi.db'}"))
    return app.openapi()


def fields(document: dict[str, Any], schema: str) -> dict[str, Field]:
    component = document["components"]["schemas"][schema]
    required = set(component.get("required", []))
    return {
        name: Field(required=name in required, nullable=_nullable(prop))
        for name, prop in component["properties"].items()
    }


def _nullable(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "null" or any(
        alt.get("type") == "null" for alt in prop.get("anyOf", [])
    )


def mismatches(ours: dict[str, Field], theirs: dict[str, Field], *, reads: bool) -> list[str]:
    """Fields missing, extra, or required differently; for what the client reads, also each
    field the service may send as null but the client's type refuses."""
    found = [f"missing {name}" for name in theirs.keys() - ours.keys()]
    found += [f"extra {name}" for name in ours.keys() - theirs.keys()]
    for name in ours.keys() & theirs.keys():
        mine, served = ours[name], theirs[name]
        if mine.required != served.required:
            found.append(f"{name}: required {mine.required}, served {served.required}")
        if reads and served.nullable and not mine.nullable:
            found.append(f"{name}: may be null on the wire, not in the client")
    return sorted(found)
