"""A student with more assignments than a page holds: both pages list the first 50, and "Show
more assignments" reads the rest, in headless Chromium against a real server on both backends."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, expect

from tests.conftest import ADMIN_KEY
from tests.web.test_page import opened, serving, use_key

PAGE = 50  # what the pages ask for at a time
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


async def student_with_assignments(base_url: str, count: int) -> tuple[str, str]:
    """A student named Lee with `count` one-question assignments, and their page's link."""
    async with httpx.AsyncClient(base_url=base_url, headers=ADMIN, timeout=60) as http:
        student = await http.post("/api/v1/students", json={"display_name": "Lee"})
        student_id: str = student.json()["data"]["student_id"]
        body = {"student_id": student_id, "subject": "Algebra", "num_items": 1}
        for _ in range(count):
            assigned = await http.post("/api/v1/practice/assign", json=body)
            assert assigned.status_code == 200, assigned.text
        token = (await http.post("/api/v1/tokens", json={"student_id": student_id})).json()
    return student_id, f"/student#token={token['data']['token']}&student={student_id}"


async def test_both_pages_show_more_than_one_page_of_assignments(
    database_url: str, browser: Browser
) -> None:
    async with serving(database_url) as server:
        _, link = await student_with_assignments(server.base_url, PAGE + 2)
        async with opened(browser, server) as page:
            await use_key(page)
            await page.locator("#student-select").select_option(label="Lee")
            await page.get_by_role("button", name="Show this student's assignments").click()
            listed = page.locator("#student-assignments > li")
            await expect(listed).to_have_count(PAGE)
            more = page.get_by_role("button", name="Show more assignments")
            await more.click()
            await expect(listed).to_have_count(PAGE + 2)
            await expect(more).to_be_hidden()
            await expect(page.locator("#error")).to_be_hidden()

        context = await browser.new_context(base_url=server.base_url)
        student_page = await context.new_page()
        try:
            await student_page.goto(link)
            await expect(student_page.locator("body")).to_have_attribute("data-ready", "true")
            own = student_page.locator("#assignments > li")
            await expect(own).to_have_count(PAGE)
            more = student_page.get_by_role("button", name="Show more assignments")
            await more.click()
            await expect(own).to_have_count(PAGE + 2)
            await expect(more).to_be_hidden()
            await expect(student_page.locator("#no-assignments")).to_be_hidden()
            await expect(student_page.locator("#error")).to_be_hidden()
        finally:
            await context.close()
