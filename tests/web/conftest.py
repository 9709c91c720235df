"""Fixtures of the page tests: one headless Chromium per module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")


def chromium() -> str:
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is required at {CHROMIUM} (apt-get install -y chromium)")
    return str(CHROMIUM)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the module; each test opens its own context (cookies, storage)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()
