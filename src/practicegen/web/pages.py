"""Serves the teacher page (`/`) and its static assets from the package."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
