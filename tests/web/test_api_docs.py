"""`/docs` (Swagger UI) and `/redoc` render in headless Chromium with the network off.

Chromium is started with a proxy at a closed local port: every fetch beyond this machine's
loopback fails (the test shows that it does), so the pages can only render from the server's
own assets. Each page must draw every operation of the served document, send no request
elsewhere (its Content-Security-Policy stops ReDoc's one outside image before it is sent), and
throw no error; a screenshot of each is saved in the test's tmp dir.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import requires
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.conftest import ADMIN_KEY
from tests.support.server import RunningServer
from tests.web.conftest import chromium
from tests.web.test_page import serving, sqlite_url

CLOSED_PORT_PROXY = "--proxy-server=127.0.0.1:9"  # nothing listens: every proxied fetch fails
RENDER_TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
async def offline_browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium(),
            # loopback bypasses any proxy in Chromium: the server alone stays reachable
            args=["--no-sandbox", CLOSED_PORT_PROXY],
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def docs_server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with serving(sqlite_url(tmp_path)) as server:
        yield server


async def operation_count(server: RunningServer) -> int:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        paths = (await http.get("/openapi.json")).json()["paths"]
    return sum(len(operations) for operations in paths.values())


@asynccontextmanager
async def offline_page(
    browser: Browser, server: RunningServer, path: str, tmp_path: Path
) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=server.base_url)
    page = await context.new_page()
    requested: list[str] = []
    thrown: list[str] = []
    blocked: list[str] = []  # stopped by the page's Content-Security-Policy: never sent
    page.on("request", lambda request: requested.append(request.url))
    page.on(
        "requestfailed",
        lambda request: blocked.append(request.url) if request.failure == "csp" else None,
    )
    page.on("pageerror", lambda error: thrown.append(str(error)))
    try:
        reached = await page.evaluate(
            "fetch('http://example.com/').then(() => 'reached', () => 'failed')"
        )
        assert reached == "failed"  # the network is off for this browser
        requested.clear()
        blocked.clear()
        await page.goto(path)
        yield page
        await page.screenshot(path=tmp_path / f"{path.strip('/')}.png", full_page=False)
    finally:
        await context.close()
    assert thrown == []
    ours = (server.base_url + "/", f"blob:{server.base_url}/")
    sent = [url for url in requested if url not in blocked]
    assert sent and all(url.startswith(ours) for url in sent), sent


async def test_swagger_ui_renders_every_operation_offline(
    offline_browser: Browser, docs_server: RunningServer, tmp_path: Path
) -> None:
    expected = await operation_count(docs_server)
    async with offline_page(offline_browser, docs_server, "/docs", tmp_path) as page:
        operations = page.locator(".opblock")
        await expect(operations).to_have_count(expected, timeout=RENDER_TIMEOUT_MS)
        catalog = page.locator("#operations-catalog-read_catalog_api_v1_catalog_get")
        await expect(catalog).to_contain_text("/api/v1/catalog")
        await catalog.locator(".opblock-summary").click()  # opens, drawing its schema offline
        await expect(catalog.locator(".responses-wrapper")).to_contain_text("200")
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text("practicegen")
    assert (tmp_path / "docs.png").stat().st_size > 10_000


async def test_redoc_renders_every_operation_offline(
    offline_browser: Browser, docs_server: RunningServer, tmp_path: Path
) -> None:
    expected = await operation_count(docs_server)
    async with offline_page(offline_browser, docs_server, "/redoc", tmp_path) as page:
        sections = page.locator("[data-section-id^='operation/']")
        await expect(sections).to_have_count(expected, timeout=RENDER_TIMEOUT_MS)
        await expect(page.locator("h1").first).to_contain_text("practicegen")
        await expect(page.get_by_text("/api/v1/catalog").first).to_be_attached()
    assert (tmp_path / "redoc.png").stat().st_size > 10_000


async def test_the_docs_assets_are_served_and_nothing_else(docs_server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=docs_server.base_url) as http:
        page = await http.get("/docs")
        assert page.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in page.text
        assert "://" not in page.text  # every URL on it is this server's
        redoc = await http.get("/redoc")
        assert "/docs/assets/redoc.standalone.js" in redoc.text and "://" not in redoc.text
        for name, kind in (
            ("swagger-ui-bundle.js", "text/javascript"),
            ("swagger-ui.css", "text/css"),
            ("redoc.standalone.js", "text/javascript"),
            ("favicon.png", "image/png"),
        ):
            asset = await http.get(f"/docs/assets/{name}")
            assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
            assert len(asset.content) > 1000
        for hostile in ("../core.py", "%2e%2e%2fcore.py", "__init__.py", "x.js"):
            missing = await http.get(f"/docs/assets/{hostile}")
            assert missing.status_code == 404
            assert missing.json()["error"]["code"] == "not_found"
        keyed = await http.get("/docs", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        assert keyed.status_code == 200


def test_the_distribution_requires_the_package_that_ships_the_bundles() -> None:
    """The bundles are not in this repository: installing practicegen must bring them."""
    assert any(
        r.replace("_", "-").startswith("fastapi-offline") for r in requires("practicegen") or []
    )
