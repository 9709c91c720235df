"""The item bank's JSON exchange format, read by import and written by export:

    {"format": "practicegen-bank", "version": 1, "items": [<ItemContent>, ...]}

A bad row is reported with its index (from 0), row number (from 1) and reasons; the rest load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from practicegen.errors import InvalidRequest
from practicegen.items.schemas import ItemContent

FORMAT = "practicegen-bank"
VERSION = 1


class InvalidBankFile(InvalidRequest):
    code = "invalid_bank_file"
    default_message = 'A bank file is {"format": "practicegen-bank", "version": 1, "items": [...]}.'


@dataclass(frozen=True, slots=True)
class RejectedRow:
    index: int  # the row's place in `items`, from 0
    reasons: list[str]
    row: int = 0  # the same place counted from 1, as people count rows

    @classmethod
    def at(cls, index: int, reasons: list[str]) -> RejectedRow:
        return cls(index=index, reasons=reasons, row=index + 1)


@dataclass(slots=True)
class ParsedBank:
    items: list[tuple[int, ItemContent]] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


def _reasons(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in err['loc']) or 'item'}: {err['msg']}" for err in exc.errors()
    ]


def parse_bank(document: Any) -> ParsedBank:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidBankFile()
    if document.get("version") != VERSION:
        raise InvalidBankFile(f"Unsupported bank version {document.get('version')!r}.")
    rows = document.get("items")
    if not isinstance(rows, list):
        raise InvalidBankFile("'items' must be a list.")
    parsed = ParsedBank()
    for index, row in enumerate(rows):
        try:
            parsed.items.append((index, ItemContent.model_validate(row)))
        except ValidationError as exc:
            parsed.rejected.append(RejectedRow.at(index, _reasons(exc)))
    return parsed


def bank_document(items: list[ItemContent]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "items": [item.model_dump(mode="json") for item in items],
    }
