"""Fixtures of the page tests: one headless Chromium per test process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

# Debian's build of Chromium's headless shell: the same engine without the desktop browser around
# it, the build Playwright itself runs headless; it takes about a third less CPU per page test
CHROMIUM = Path("/usr/bin/chromium-headless-shell")

# Playwright's 5 s default is shorter than a loaded machine's first grading after a start
# (sympy processes warming up beside the rest of the suite).
expect.set_options(timeout=15_000)


def chromium() -> str:
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is required at {CHROMIUM}: apt-get install chromium-headless-shell")
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
