"""The teacher page at `/`, driven in headless Chromium against a real server.

The server runs on uvicorn with an in-process worker. The main flow runs on both backends: enter
the admin key, create a student, generate practice in the background (a slow scripted model, so
the job's live progress messages reach the page over the WebSocket), watch the bar reach 100%,
answer one item wrongly and one rightly. On SQLite: the sync assign and the API's errors in the
error area, the polling fallback when the WebSocket is refused, a server with authentication
off, and that the page's routes serve files without hiding the API's JSON 404s.

Chromium must be installed at CHROMIUM: without it these tests fail, they do not skip.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, expect

from practicegen.bootstrap import prepare
from tests.api.factories import item_body
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.fake_llm import FakeLlm, Mode, running_fake_llm
from tests.support.server import RunningServer, running_server

# The demo bank is what a new server starts with; the in-process worker picks jobs up at once.
DEFAULTS: dict[str, Any] = {
    "demo_bank": True,
    "run_worker": True,
    "job_heartbeat_s": 0.2,
}
JOB_TIMEOUT_MS = 20_000


@asynccontextmanager
async def serving(database_url: str, **overrides: Any) -> AsyncIterator[RunningServer]:
    settings = make_settings(database_url, **(DEFAULTS | overrides))
    await prepare(settings)
    async with running_server(settings) as running:
        yield running


@asynccontextmanager
async def opened(browser: Browser, server: RunningServer) -> AsyncIterator[Page]:
    """The page at `/`; fails the test if any script on it throws."""
    context = await browser.new_context(base_url=server.base_url)
    page = await context.new_page()
    thrown: list[str] = []
    page.on("pageerror", lambda error: thrown.append(str(error)))
    try:
        await page.goto("/")
        await expect(page.locator("body")).to_have_attribute("data-ready", "true")
        yield page
    finally:
        await context.close()
    assert thrown == []


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'practicegen.db'}"


async def seed_short_bank(server: RunningServer) -> None:
    """Two linear-equation items, so a 5-item request makes the model write three."""
    rows = [
        item_body(stem=f"Solve ${k + 2}x + 1 = {2 * (k + 2) + 1}$.", answer="x = 2")
        for k in range(2)
    ]
    document = {"format": "practicegen-bank", "version": 1, "items": rows}
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    # an import reads each key in the grading processes, which a test node starts on first use
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=60) as http:
        response = await http.post("/api/v1/items/import", json=document)
        assert response.status_code == 200 and response.json()["data"]["imported"] == 2


async def use_key(page: Page, key: str = ADMIN_KEY) -> None:
    await page.get_by_label("API key or token").fill(key)
    await page.get_by_role("button", name="Use key").click()
    await expect(page.locator("#key-status")).to_contain_text(key[-4:])


async def create_student(page: Page, name: str) -> None:
    await page.get_by_label("New student's name").fill(name)
    await page.get_by_role("button", name="Create student").click()
    await expect(page.locator("#student-select option:checked")).to_have_text(name)


async def request_practice(
    page: Page, button: str, *, subject: str = "Algebra", topic: str = "", num_items: int = 3
) -> None:
    await page.get_by_label("Subject").fill(subject)
    await page.get_by_label("Topic (optional)").fill(topic)
    await page.get_by_label("Questions").fill(str(num_items))
    await page.get_by_role("button", name=button).click()


async def expect_job_completed(page: Page, transport: str) -> None:
    await expect(page.locator("#progress-percent")).to_have_text("100%", timeout=JOB_TIMEOUT_MS)
    await expect(page.get_by_role("progressbar")).to_have_js_property("value", 100)
    await expect(page.locator("#job-status")).to_have_text("completed")
    await expect(page.locator("#job-transport")).to_have_text(transport)


async def answer(page: Page, position: int, text: str) -> None:
    item = page.locator(f"#item-{position}")
    await item.get_by_label(f"Answer to question {position}").fill(text)
    await item.get_by_role("button", name="Check answer").click()


@pytest.fixture
async def slow_model() -> AsyncIterator[FakeLlm]:
    async with running_fake_llm(FakeLlm(seed=5, default=Mode.SLOW, slow_s=0.4)) as fake:
        yield fake


async def test_teacher_generates_practice_and_grades_answers(
    database_url: str, browser: Browser, slow_model: FakeLlm
) -> None:
    model = {"llm_base_url": slow_model.base_url, "llm_model": "fake", "llm_timeout_s": 5.0}
    async with serving(database_url, demo_bank=False, **model) as server:
        await seed_short_bank(server)
        async with opened(browser, server) as page:
            await use_key(page)
            await expect(page.locator("#error")).to_be_hidden()
            await create_student(page, "Ada")
            await request_practice(
                page, "Generate in background", topic="Linear Equations", num_items=5
            )

            await expect(page.locator("#job")).to_be_visible()
            await expect_job_completed(page, "WebSocket")
            log = page.locator("#progress-log li")
            await expect(log.filter(has_text="Generating AI question")).not_to_have_count(0)
            await expect(log.last).to_have_text("Completed.")
            await expect(page.locator("#items > li")).to_have_count(5)
            await expect(page.locator("#assignment-summary")).to_contain_text("for Ada")

            await answer(page, 1, "x = 1000")
            first = page.locator("#item-1 .feedback")
            await expect(first).to_contain_text("Incorrect")
            await expect(first).to_contain_text("Correct answer:")
            await expect(page.locator("#item-1").get_by_role("button")).to_be_disabled()

            key = await page.locator("#item-2 .key-answer").text_content()
            assert key
            await answer(page, 2, key)
            await expect(page.locator("#item-2 .feedback")).to_have_attribute(
                "data-correct", "true"
            )
            await expect(page.locator("#item-2 .verdict")).to_have_text("Correct")

            job_id = await page.locator("#job-id").text_content()
            row = page.locator(f"#job-row-{job_id}")
            await expect(row).to_have_attribute("data-status", "completed")
            await expect(row).to_contain_text("Ada")
            await expect(page.locator("#error")).to_be_hidden()


async def test_sync_assign_and_api_errors_show_on_the_page(
    tmp_path: Path, browser: Browser
) -> None:
    async with serving(sqlite_url(tmp_path)) as server, opened(browser, server) as page:
        error = page.locator("#error")
        await expect(error).to_be_hidden()  # nothing is asked, nor refused, before a key is given
        await use_key(page, "pgen_sk_not_a_real_key_0000000000")
        await expect(error).to_contain_text("not_authenticated")
        await use_key(page)
        await expect(error).to_be_hidden()

        await request_practice(page, "Assign now")
        await expect(error).to_contain_text("Choose or create a student first")
        await create_student(page, "Grace")
        await request_practice(page, "Assign now", subject="Alchemy")
        await expect(error).to_contain_text("unknown_subject")
        await expect(error).to_contain_text("Known subjects: Algebra")
        await page.get_by_role("button", name="Dismiss").click()
        await expect(error).to_be_hidden()

        await request_practice(page, "Assign now", topic="Linear Equations", num_items=2)
        await expect(page.locator("#items > li")).to_have_count(2)
        await expect(page.locator("#job")).to_be_hidden()
        await answer(page, 1, "x = 1000")
        await expect(page.locator("#item-1 .verdict")).to_have_text("Incorrect")
        await answer_again_is_refused(page)


async def answer_again_is_refused(page: Page) -> None:
    """A second answer to the same item: the API's 409 reaches the error area."""
    item = page.locator("#item-1")
    await item.get_by_label("Answer to question 1").evaluate("input => input.disabled = false")
    await item.get_by_role("button").evaluate("button => button.disabled = false")
    await answer(page, 1, "x = 3")
    await expect(page.get_by_role("alert")).to_contain_text("already_answered")


async def test_polling_takes_over_when_the_websocket_is_refused(
    tmp_path: Path, browser: Browser
) -> None:
    async def refuse(socket: WebSocketRoute) -> None:
        await socket.close(code=1011, reason="blocked by a proxy")

    async with serving(sqlite_url(tmp_path)) as server, opened(browser, server) as page:
        await page.route_web_socket("**/ws", refuse)
        await use_key(page)
        await create_student(page, "Linus")
        await request_practice(page, "Generate in background", num_items=4)
        await expect_job_completed(page, "polling")
        await expect(page.locator("#items > li")).to_have_count(4)
        await expect(page.get_by_role("alert")).to_be_hidden()


async def test_without_authentication_no_key_is_needed(tmp_path: Path, browser: Browser) -> None:
    async with (
        serving(sqlite_url(tmp_path), auth="off") as server,
        opened(browser, server) as page,
    ):
        await expect(page.locator("#key-status")).to_contain_text("No key")
        await create_student(page, "Emmy")
        await request_practice(page, "Generate in background", num_items=2)
        await expect_job_completed(page, "WebSocket")
        await expect(page.locator("#items > li")).to_have_count(2)
        await expect(page.get_by_role("alert")).to_be_hidden()


async def test_page_routes_serve_files_and_leave_api_errors_json(tmp_path: Path) -> None:
    async with (
        serving(sqlite_url(tmp_path)) as server,
        httpx.AsyncClient(base_url=server.base_url) as http,
    ):
        page = await http.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert '<script type="module" src="/static/app.js">' in page.text
        for name, media_type in [("app.js", "text/javascript"), ("style.css", "text/css")]:
            asset = await http.get(f"/static/{name}")
            assert asset.status_code == 200
            assert asset.headers["content-type"].startswith(media_type)
        for path in ["/api/v1/nope", "/api/nope", "/static/nope.js", "/static/pages.py"]:
            missing = await http.get(path)
            assert missing.status_code == 404, path
            body = missing.json()
            assert body["success"] is False and body["error"]["code"] == "not_found", path
        assert "/" not in (await http.get("/openapi.json")).json()["paths"]


async def test_the_practice_form_offers_the_catalogue(tmp_path: Path, browser: Browser) -> None:
    """Subjects and topics come from GET /api/v1/catalog, the bank's own ones included; a
    subject typed in another case still finds its topics, and the assignment shows the
    known spelling."""
    async with serving(sqlite_url(tmp_path)) as server, opened(browser, server) as page:
        rows = [
            item_body(subject="Chemistry", topic="Moles", skill="moles.convert", stem=f"M{k}")
            for k in range(2)
        ]
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            document = {"format": "practicegen-bank", "version": 1, "items": rows}
            assert (await http.post("/api/v1/items/import", json=document)).status_code == 200
        await use_key(page)
        subjects = page.locator("#subjects option")
        await expect(subjects).to_have_count(4)
        names = await subjects.evaluate_all("options => options.map(o => o.value)")
        assert names == ["Algebra", "Arithmetic", "Chemistry", "Geometry"]
        await expect(page.get_by_label("Subject")).to_have_value("Algebra")
        await page.get_by_label("Subject").fill("CHEMISTRY")
        topics = page.locator("#topics option")
        await expect(topics).to_have_count(1)
        await expect(topics).to_have_attribute("value", "Moles")
        await page.get_by_label("Subject").fill("algebra")
        await expect(page.locator("#topics option[value='Linear Equations']")).to_have_count(1)
        await create_student(page, "Marie")
        await request_practice(
            page, "Assign now", subject="algebra", topic="linear equations", num_items=2
        )
        summary = page.locator("#assignment-summary")
        await expect(summary).to_contain_text("Algebra · Linear Equations for Marie")
