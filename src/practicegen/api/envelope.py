"""The success envelope every endpoint answers with: `{"success": true, "data": ...}`."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    success: Literal[True] = True
    data: T


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` to get the next one."""

    items: list[T]
    next_cursor: str | None


def ok(data: T) -> Envelope[T]:
    return Envelope[T](data=data)
