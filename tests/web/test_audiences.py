"""The pages for their two audiences, driven in headless Chromium against a real server on both
backends, with axe-core checking each for serious or critical accessibility violations and a
screenshot of each saved under tests/web/screenshots/.

- The teacher (API key) creates a class of three, assigns it at once and watches all three
  complete, reopens a student's assignment, and opens the class report; a finished job shown
  again after an answer shows the answer (the stale-state case).
- The student (a link with a student token) answers every question with a hint and feedback,
  sees the worked solution, and never an answer key before answering.

Math must arrive typeset: the checks look for KaTeX's elements, not for `$` signs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import ADMIN_KEY
from tests.web.test_page import (
    JOB_TIMEOUT_MS,
    create_student,
    opened,
    serving,
    use_key,
)

AXE_DIR = Path(__file__).parent / "axe"
SCREENSHOTS = Path(__file__).parent / "screenshots"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core, installed from the npm registry at the version tests/web/axe pins."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        npm = shutil.which("npm")
        assert npm is not None, "npm (Node 20) is needed to load axe-core"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=AXE_DIR, check=True, capture_output=True
        )
    return script.read_text()


async def assert_accessible(page: Page, axe_source: str) -> None:
    await page.evaluate(axe_source)  # through the debugger: the page's CSP refuses inline scripts
    found: list[dict[str, Any]] = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    grave = [v for v in found if v.get("impact") in ("serious", "critical")]
    assert grave == [], json.dumps(
        [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in grave], indent=1
    )


async def screenshot(page: Page, name: str, database_url: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    backend = "postgres" if database_url.startswith("postgresql") else "sqlite"
    await page.screenshot(path=str(SCREENSHOTS / f"{name}-{backend}.png"), full_page=True)


async def add_to_class(page: Page, name: str) -> None:
    await page.locator("#student-select").select_option(label=name)
    await page.get_by_role("button", name="Add the chosen student to this class").click()
    await expect(page.locator("#roster")).to_contain_text(name)


async def test_the_teacher_assigns_a_class_watches_it_and_reads_the_report(
    database_url: str, browser: Browser, axe_source: str
) -> None:
    async with serving(database_url) as server, opened(browser, server) as page:
        await expect(page.locator("#error")).to_be_hidden()  # nothing shown before acting
        await use_key(page)
        for name in ("Ada", "Bo", "Cy"):
            await create_student(page, name)
        await page.get_by_label("New class's name").fill("7B")
        await page.get_by_role("button", name="Create class").click()
        await expect(page.locator("#class-select option:checked")).to_have_text("7B (0 students)")
        for name in ("Ada", "Bo", "Cy"):
            await add_to_class(page, name)
        await page.get_by_label("Topic (optional)").fill("Linear Equations")
        await page.get_by_label("Questions").fill("2")
        await page.get_by_role("button", name="Assign to every student").click()
        status = page.locator("#batch-status")
        await expect(status).to_contain_text("3 of 3 students ready", timeout=JOB_TIMEOUT_MS)
        await expect(status).to_contain_text("Done.")
        done = page.locator("#batch-jobs li[data-status=completed]")
        await expect(done).to_have_count(3)
        await expect(page.locator("#batch-progress")).to_have_js_property("value", 100)

        # a student's assignment, reopened, answered, then shown again from its job
        await page.locator("#student-select").select_option(label="Ada")
        await page.get_by_role("button", name="Show this student's assignments").click()
        await page.locator("#student-assignments button").first.click()
        await expect(page.locator("#items > li")).to_have_count(2)
        await expect(page.locator("#items .stem .katex").first).to_be_visible()
        await expect(page.locator("#items .item-meta").first).to_contain_text("Linear equations")
        item = page.locator("#item-1")
        await item.get_by_label("Answer to question 1").fill("x = 1000")
        await item.get_by_role("button", name="Check answer").click()
        # the node starts its grading processes at its first answer
        await expect(item.locator(".verdict")).to_have_text("Incorrect", timeout=JOB_TIMEOUT_MS)
        await page.get_by_role("button", name="Reload jobs").click()
        ada_row = page.locator("#jobs-body tr", has_text="Ada").first
        await ada_row.get_by_role("button", name="Show job created").click()
        await expect(page.locator("#item-1 .verdict")).to_have_text("Incorrect")  # not blank
        await expect(page.locator("#item-1").get_by_role("button")).to_be_disabled()
        await expect(page.locator("#error")).to_be_hidden()  # and no already_answered

        await page.get_by_role("button", name="Show the class report").click()
        report = page.locator("#report")
        await expect(report.locator("tbody tr")).to_have_count(3)
        await expect(report.locator("tbody tr", has_text="Ada")).to_contain_text("1 answered")
        await expect(report.locator("tbody tr", has_text="Bo")).to_contain_text("not yet")
        await expect(page.locator("#error")).to_be_hidden()
        await assert_accessible(page, axe_source)
        await screenshot(page, "teacher", database_url)


async def student_link(server_url: str) -> tuple[str, dict[str, Any]]:
    """A student with an assignment of three questions, and the link their teacher would send."""
    async with httpx.AsyncClient(base_url=server_url, headers=ADMIN, timeout=60) as http:
        student = (await http.post("/api/v1/students", json={"display_name": "Kim"})).json()
        student_id = student["data"]["student_id"]
        body = {"student_id": student_id, "subject": "Algebra", "topic": "Linear Equations"}
        assigned = await http.post("/api/v1/practice/assign", json={**body, "num_items": 3})
        assert assigned.status_code == 200, assigned.text
        token = (await http.post("/api/v1/tokens", json={"student_id": student_id})).json()
    link = f"/student#token={token['data']['token']}&student={student_id}"
    return link, assigned.json()["data"]


async def test_a_student_works_through_an_assignment_with_hints_and_feedback(
    database_url: str, browser: Browser, axe_source: str
) -> None:
    async with serving(database_url) as server:
        link, assignment = await student_link(server.base_url)
        keys = {item["position"]: item["answer"] for item in assignment["items"]}
        context = await browser.new_context(base_url=server.base_url)
        page = await context.new_page()
        thrown: list[str] = []
        page.on("pageerror", lambda error: thrown.append(str(error)))
        try:
            await page.goto(link)
            await expect(page.locator("body")).to_have_attribute("data-ready", "true")
            assert "token" not in page.url  # the sign-in left the address bar
            await expect(page.locator("#error")).to_be_hidden()
            await page.locator("#assignments button").first.click()
            await expect(page.locator("#practice-count")).to_contain_text("Question 1 of 3")
            assert await page.locator(".answer-key, .key-answer").count() == 0
            for position in (1, 2, 3):
                await answer_one(page, position, keys[position], wrong=position == 1)
                if position < 3:
                    await page.get_by_role("button", name="Next question").click()
            await expect(page.locator("#practice-done")).to_have_text("All done: 2 of 3 right.")
            await assert_accessible(page, axe_source)
            await screenshot(page, "student", database_url)
        finally:
            await context.close()
        assert thrown == []


async def answer_one(page: Page, position: int, key: str, *, wrong: bool) -> None:
    await expect(page.locator("#question-heading")).to_have_text(f"Question {position}")
    await expect(page.locator("#question-stem .katex").first).to_be_visible()
    if await page.locator("#show-hint").is_visible():
        await page.get_by_role("button", name="Show a hint").click()
        await expect(page.locator("#hints li").first).to_be_visible()
        await expect(page.locator("#hints li .katex").first).to_be_visible()
    await expect(page.locator("#solution")).to_be_hidden()  # no solution before an answer
    field = page.get_by_label("Your answer")
    await field.focus()
    await page.keyboard.type("x = 1000" if wrong else key)
    await page.keyboard.press("Enter")  # the keyboard alone answers
    verdict = page.locator("#feedback strong")
    await expect(verdict).to_have_text(
        "Not quite." if wrong else "Correct.", timeout=JOB_TIMEOUT_MS
    )
    await expect(page.locator("#solution")).to_be_visible()
    await expect(page.locator("#solution-text .katex").first).to_be_visible()


async def test_the_student_page_without_a_link_says_how_to_open_it(
    database_url: str, browser: Browser
) -> None:
    async with serving(database_url) as server:
        context = await browser.new_context(base_url=server.base_url)
        page = await context.new_page()
        try:
            await page.goto("/student")
            await expect(page.locator("body")).to_have_attribute("data-ready", "true")
            await expect(page.locator("#no-link")).to_be_visible()
            await expect(page.locator("#error")).to_be_hidden()
            katex = await page.request.get("/static/vendor/katex/katex.min.js")
            assert katex.ok and "javascript" in katex.headers["content-type"]
            font = await page.request.get("/static/vendor/katex/fonts/KaTeX_Main-Regular.woff2")
            assert font.ok and font.headers["content-type"] == "font/woff2"
            escape = await page.request.get("/static/vendor/../pages.py")
            assert escape.status == 404
        finally:
            await context.close()
