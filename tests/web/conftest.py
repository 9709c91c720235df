"""Fixtures of the page tests: one headless Chromium per test process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")

# Playwright's 5 s default is shorter than a loaded machine's first grading after a start
# (sympy processes warming up beside the rest of the suite).
expect.set_options(timeout=15_000)


def chromium() -> str:
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is required at {CHROMIUM} (apt-get install -y chromium)")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the test process (a launch costs about a CPU-second); each test opens its
    own context (cookies, storage)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()
