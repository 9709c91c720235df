"""The async guide's "Option 1: Async Endpoint with Polling" JavaScript, run by Node.

`option1_polling.mjs` holds the guide's code block verbatim between its BEGIN and END markers.
Each test copies it with exactly two substitutions, and nothing else changed: the guide's host
`https://api.example.com` becomes the base URL of a real `practicegen serve` started as a
subprocess, and the guide's placeholder `'student-uuid'` becomes the id of a student the test
created. The guide's fetch calls send no Authorization header, so the server runs with
`PRACTICEGEN_AUTH=off` (which `serve` allows on loopback only).

The code around the markers wraps `fetch` to log what the guide receives and prints the job's
final status and result, because the guide's `setTimeout` re-polls are never awaited. Node
must exit 0 having printed a completed result with the 5 items the guide asked for.

Runs once on SQLite and once on a fresh PostgreSQL database (the `database_url` fixture; its
`postgres` mark follows the suite's rule: skipped only when PostgreSQL is unreachable outside
CI), both with `PRACTICEGEN_RUN_WORKER=true`, so the serve process runs the job itself. A
missing `node` fails the test; it is never skipped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx

from tests.api.test_practice import new_student, seed_bank
from tests.guide.node import (
    guide_block_in_markdown,
    node_binary,
    outcome_of,
    run_node,
    split_script,
)
from tests.guide.serve import practicegen_serve

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "option1_polling.mjs"
GUIDE_HOST = "https://api.example.com"
GUIDE_STUDENT = "'student-uuid'"
HEADING = "### Option 1: Async Endpoint with Polling"
BEGIN = "// ---- BEGIN guide: Option 1: Async Endpoint with Polling ----\n"
# SHA-256 of the guide's Option 1 code block (the text between its ```javascript fence and the
# closing fence), so an edit to the guide's lines in the script fails the test.
GUIDE_BLOCK_SHA256 = "a8bff81a8d148febb65e1cc8b0d1d2135102f22878460fa286f6a14722f7ac13"
GUIDE_STATUSES = {"pending", "processing", "completed", "failed"}
GUIDE_ACCEPTED_KEYS = {"success", "job_id", "status", "message", "status_url", "websocket_url"}
GUIDE_JOB_KEYS = {
    "job_id",
    "job_type",
    "status",
    "progress_percent",
    "progress_message",
    "created_at",
    "updated_at",
}


def guide_block(script: str) -> str:
    return split_script(script, BEGIN)[1]


def with_host_and_student(script: str, base_url: str, student_id: str) -> str:
    """The script with the guide's host and student placeholder replaced, and nothing else."""
    before, block, after = split_script(script, BEGIN)
    assert block.count(GUIDE_HOST) == 2, "the guide fetches its host twice"
    assert block.count(GUIDE_STUDENT) == 1, "the guide names 'student-uuid' once"
    block = block.replace(GUIDE_HOST, base_url).replace(GUIDE_STUDENT, f"'{student_id}'")
    return before + block + after


def check_exchanges(
    exchanges: list[dict[str, Any]], base_url: str, student_id: str
) -> dict[str, Any]:
    """What the guide's code received holds to the guide's contract; returns the 202 body."""
    create, *polls = exchanges
    assert create["method"] == "POST"
    assert create["url"] == f"{base_url}/api/v1/practice/assign/async"
    assert create["status"] == 202, create
    accepted: dict[str, Any] = create["body"]
    assert set(accepted) == GUIDE_ACCEPTED_KEYS, accepted
    assert accepted["success"] is True and accepted["status"] == "pending"
    job_id = accepted["job_id"]
    assert accepted["status_url"] == f"/api/v1/jobs/{job_id}"
    assert accepted["websocket_url"] == f"/api/v1/jobs/{job_id}/ws"
    assert polls, "the guide polled the job at least once"
    for poll in polls:
        assert (poll["method"], poll["url"]) == ("GET", f"{base_url}/api/v1/jobs/{job_id}")
        assert poll["status"] == 200, poll
        assert poll["cache_control"] == "no-store"
        assert poll["body"]["success"] is True
        data = poll["body"]["data"]
        assert set(data) >= GUIDE_JOB_KEYS, data
        assert data["job_id"] == job_id and data["job_type"] == "practice_generation"
        assert data["status"] in GUIDE_STATUSES, data
        assert data["student_id"] == student_id
    assert [p["body"]["data"]["status"] for p in polls][-1] == "completed"
    return accepted


def test_the_script_holds_the_guide_code_verbatim() -> None:
    block = guide_block(SCRIPT.read_text(encoding="utf-8"))
    assert hashlib.sha256(block.encode()).hexdigest() == GUIDE_BLOCK_SHA256
    assert guide_block_in_markdown(HEADING) in (None, block)


async def test_guide_option1_polling_completes_with_five_items(
    database_url: str, tmp_path: Path
) -> None:
    node = node_binary()  # before the server starts: no Node.js is a plain failure
    async with (
        practicegen_serve(database_url, tmp_path) as serve,
        httpx.AsyncClient(base_url=serve.base_url, timeout=30) as http,
    ):
        await seed_bank(http)
        student_id = await new_student(http)
        script = tmp_path / "option1_polling.mjs"
        script.write_text(
            with_host_and_student(SCRIPT.read_text(encoding="utf-8"), serve.base_url, student_id),
            encoding="utf-8",
        )
        code, stdout, stderr = await run_node(node, script)
        assert code == 0, f"node exited {code}\n{stdout}\n{stderr}\n{serve.log_tail()}"
        outcome = outcome_of(stdout)
        assert outcome["status"] == "completed", outcome
        result = outcome["result"]
        assert len(result["items"]) == 5, result
        assert result["student_id"] == student_id and result["num_items"] == 5
        assert result["subject"] == "Algebra" and result["topic"] == "Linear Equations"
        assert {item["topic"] for item in result["items"]} == {"Linear Equations"}
        check_exchanges(outcome["exchanges"], serve.base_url, student_id)
        stored = await http.get(f"/api/v1/assignments/{result['assignment_id']}")
        assert stored.status_code == 200 and stored.json()["data"] == result
