"""Text from the bank is shown as text, whatever it holds: an item whose stem, hints and worked
solution carry markup (an `<img onerror>`, a `<script>`, `javascript:` links, KaTeX's `\\href`
and `\\htmlData`, a quote that would end an attribute) and a student named with markup, put in
through the API and opened on the teacher's page and on the student's, in headless Chromium on
both backends. No script runs (a flag the markup would set stays unset, no dialog opens), none of
the markup's elements or attributes reach the DOM, and the markup reads literally on the page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from playwright.async_api import Browser, Locator, Page, expect

from tests.api.factories import item_body
from tests.conftest import ADMIN_KEY
from tests.web.test_page import JOB_TIMEOUT_MS, serving, use_key

RUN = "window.__pwned = 1; alert(1)"
IMG = f'<img src=x onerror="{RUN}">'
SCRIPT = f"<script>{RUN}</script>"
LINK = f"[a link](javascript:{RUN})"
QUOTE = f'" onmouseover="{RUN}" data-x="'
ANCHOR = f'<a href="javascript:{RUN}">here</a>'
FRAME = f'<iframe src="javascript:{RUN}"></iframe>'
STEM = f"Solve $2x + 3 = 11$. {IMG} {SCRIPT} {LINK} {QUOTE}"
HINT = f"Subtract 3 first: $\\href{{javascript:{RUN}}}{{click}}$ or {ANCHOR}"
SOLUTION = f"$\\htmlData{{pwned=1}}{{2x = 8}}$, so $x = 4$. {FRAME}"
NAME = f"Kim {IMG}"
INJECTED = "img, script, iframe, a[href^='javascript'], [onerror], [onmouseover], [data-pwned]"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


async def hostile_assignment(base_url: str) -> tuple[str, str]:
    """The hostile item assigned to a student named with markup: the student's id and the
    link their teacher would send them."""
    async with httpx.AsyncClient(base_url=base_url, headers=ADMIN, timeout=60) as http:
        created = await http.post(
            "/api/v1/items", json=item_body(stem=STEM, hints=[HINT], solution=SOLUTION)
        )
        assert created.status_code == 201, created.text
        student = await http.post("/api/v1/students", json={"display_name": NAME})
        student_id: str = student.json()["data"]["student_id"]
        body = {"student_id": student_id, "subject": "Algebra", "topic": "Linear Equations"}
        assigned = await http.post("/api/v1/practice/assign", json={**body, "num_items": 1})
        assert assigned.status_code == 200, assigned.text
        items: list[dict[str, Any]] = assigned.json()["data"]["items"]
        assert [item["stem"] for item in items] == [STEM]  # the page is handed the markup
        token = (await http.post("/api/v1/tokens", json={"student_id": student_id})).json()
    return student_id, f"/student#token={token['data']['token']}&student={student_id}"


@asynccontextmanager
async def watched(browser: Browser, base_url: str) -> AsyncIterator[Page]:
    """A page whose dialogs and thrown errors are recorded; after the test, none happened and
    the flag the markup would set is unset."""
    context = await browser.new_context(base_url=base_url)
    page = await context.new_page()
    dialogs: list[str] = []
    thrown: list[str] = []

    async def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    page.on("pageerror", lambda error: thrown.append(str(error)))
    try:
        yield page
        await page.mouse.move(0, 0)
        for target in await page.locator("p").all():  # where an onmouseover would fire
            if await target.is_visible():
                await target.hover()
        assert await page.evaluate("() => window.__pwned") is None
    finally:
        await context.close()
    assert dialogs == [] and thrown == [], (dialogs, thrown)


async def assert_literal(area: Locator, *markups: str) -> None:
    """None of the markup became elements in `area`, and each of `markups` reads in its text."""
    assert await area.locator(INJECTED).count() == 0, await area.inner_html()
    text = await area.text_content() or ""
    for markup in markups:
        assert markup in text, (markup, text)


async def test_the_teacher_page_shows_hostile_text_as_text(
    database_url: str, browser: Browser
) -> None:
    async with serving(database_url, demo_bank=False) as server:
        await hostile_assignment(server.base_url)
        async with watched(browser, server.base_url) as page:
            await page.goto("/")
            await expect(page.locator("body")).to_have_attribute("data-ready", "true")
            await use_key(page)
            await page.locator("#student-select").select_option(label=NAME)
            await page.get_by_role("button", name="Show this student's assignments").click()
            await page.locator("#student-assignments button").first.click()
            item = page.locator("#items > li").first
            await expect(item.locator(".stem")).to_contain_text("Solve", timeout=JOB_TIMEOUT_MS)
            for disclosure in await item.locator("details").all():
                await disclosure.locator("summary").click()
            await assert_literal(item, IMG, SCRIPT, LINK, QUOTE.strip(), ANCHOR, FRAME)
            await expect(item.locator(".stem .katex").first).to_be_visible()  # math still typeset
            await assert_literal(page.locator("#student-select"), NAME)
            await assert_literal(page.locator("body"))


async def test_the_student_page_shows_hostile_text_as_text(
    database_url: str, browser: Browser
) -> None:
    async with serving(database_url, demo_bank=False) as server:
        _, link = await hostile_assignment(server.base_url)
        async with watched(browser, server.base_url) as page:
            await page.goto(link)
            await expect(page.locator("body")).to_have_attribute("data-ready", "true")
            await page.locator("#assignments button").first.click()
            stem = page.locator("#question-stem")
            await expect(stem).to_contain_text("Solve")
            await assert_literal(stem, IMG, SCRIPT, LINK, QUOTE.strip())
            await expect(stem.locator(".katex").first).to_be_visible()
            await page.get_by_role("button", name="Show a hint").click()
            await assert_literal(page.locator("#hints"), ANCHOR)
            await page.get_by_label("Your answer").fill("x = 4")
            await page.keyboard.press("Enter")
            await expect(page.locator("#feedback strong")).to_have_text(
                "Correct.", timeout=JOB_TIMEOUT_MS
            )
            await expect(page.locator("#solution")).to_be_visible()
            await assert_literal(page.locator("#solution-text"), FRAME)
            await assert_literal(page.locator("body"))
